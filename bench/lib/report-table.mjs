// The markdown table the runner prints: one row per target/scenario/workload, with ratios to
// the Cerbos row of the same scenario measured in the same run.

const fmtRate = (x) => (x == null || Number.isNaN(x) ? "—" : x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0));
const fmtUs = (x) => (x == null || Number.isNaN(x) ? "—" : x >= 1000 ? `${(x / 1000).toFixed(x >= 10000 ? 0 : 1)} ms` : `${Math.round(x)} µs`);
const fmtMb = (kb) => (kb == null || Number.isNaN(kb) ? "—" : `${Math.round(kb / 1024)}`);
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : "—");

// Markdown lines for `rows`; `settings` is printed above the table.
export function renderTable(rows, settings) {
  const ref = Object.fromEntries(rows.filter((r) => r.reference).map((r) => [r.scenario, r]));
  const paced = rows.some((r) => r.pacedP99 != null);
  const out = [
    `${settings}`,
    "",
    `| target | scenario | workload | req/s | p50 | p90 | p99 | serial p50 |${paced ? " paced req/s | paced p50 | paced p99 | paced p99 vs Cerbos |" : ""} RSS MB (peak) | req/s vs Cerbos | serial p50 vs Cerbos | cache | checked (wrong / gRPC errors) |`,
    `| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |${paced ? " ---: | ---: | ---: | ---: |" : ""} ---: | ---: | ---: | --- | --- |`,
  ];
  for (const r of rows) {
    const c = ref[r.scenario];
    const check = r.check ? `${r.check.checked} (${r.check.wrong} / ${r.check.grpcErrors})` : "—";
    const mem = `${fmtMb(r.rssKb)}${r.hwmKb ? ` (${fmtMb(r.hwmKb)})` : ""}`;
    const pacedCells = paced ? ` ${fmtRate(r.pacedRate)} | ${fmtUs(r.pacedP50)} | ${fmtUs(r.pacedP99)} | ${r.reference ? "1.00×" : ratio(r.pacedP99, c?.pacedP99)} |` : "";
    out.push(`| ${r.target} | ${r.scenario} | ${r.workload} | ${fmtRate(r.rps)} | ${fmtUs(r.p50)} | ${fmtUs(r.p90)} | ${fmtUs(r.p99)} | ${fmtUs(r.serialP50)} |${pacedCells} ${mem} | ${r.reference ? "1.00×" : ratio(r.rps, c?.rps)} | ${r.reference ? "1.00×" : ratio(r.serialP50, c?.serialP50)} | ${r.cache ?? "—"} | ${check} |`);
  }
  const notes = rows.flatMap((r) => [...(r.notes ?? []), ...(r.check?.examples ?? [])].map((n) => `- ${r.target} ${r.scenario} ${r.workload}: ${n}`));
  if (notes.length) out.push("", "Notes:", ...notes);
  return out.join("\n");
}
