/** Reads one sample's value from a Prometheus exposition: the first line matching `labels` (0 when absent). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  return matching(text, name, labels)[0] ?? 0;
}

/** The sum of every sample of `name` matching `labels`. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  return matching(text, name, labels).reduce((a, b) => a + b, 0);
}

function matching(text: string, name: string, labels: Record<string, string>): number[] {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const out: number[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (want.every((l) => line.includes(l))) out.push(Number(line.slice(line.lastIndexOf(" ") + 1)));
  }
  return out;
}
