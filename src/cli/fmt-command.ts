import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Command } from "commander";
import { formatCedar } from "../engine/authoring/cedar-formatter.js";
import { CedarRuntime } from "../engine/cedar-runtime.js";
import { formatDiagnostic } from "../engine/policy-sources.js";
import { fail } from "./cli-config.js";

/** Every `.cedar` file under the paths (folders are walked; dot folders and node_modules are skipped). */
async function cedarFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string, given: boolean): Promise<void> => {
    const s = await stat(p);
    if (s.isDirectory()) {
      for (const name of (await readdir(p)).sort()) if (!name.startsWith(".") && name !== "node_modules") await walk(join(p, name), false);
    } else if (given || p.endsWith(".cedar")) {
      out.push(p);
    }
  };
  for (const p of paths) await walk(p, true);
  return out;
}

/** `verdict fmt [--check] PATH…`: Cedar's formatter over policy files (comments and annotations kept). */
export function registerFmt(program: Command): void {
  program
    .command("fmt")
    .description("format .cedar files in Cedar's canonical layout (comments and @id annotations kept); --check only lists files that are not formatted")
    .argument("[paths...]", "files or folders", ["."])
    .option("--check", "change nothing; exit 1 listing the files that are not formatted (for CI)")
    .action(async (paths: string[], flags: { check?: boolean }) => {
      let files: string[];
      try {
        files = await cedarFiles(paths);
      } catch (err) {
        return fail(`fmt: ${(err as Error).message}`, 2);
      }
      const runtime = new CedarRuntime();
      const unformatted: string[] = [];
      let broken = 0;
      for (const file of files) {
        const text = await readFile(file, "utf8");
        const result = formatCedar(runtime, { path: relative(process.cwd(), file) || file, text });
        if (!result.ok) {
          broken++;
          process.stderr.write(`${result.diagnostics.map(formatDiagnostic).join("\n")}\n`);
          continue;
        }
        if (result.text === text) continue;
        unformatted.push(file);
        if (!flags.check) await writeFile(file, result.text);
      }
      if (flags.check && unformatted.length > 0) {
        process.stdout.write(`${unformatted.map((f) => `not formatted: ${f}`).join("\n")}\nrun \`verdict fmt ${paths.join(" ")}\` to format ${unformatted.length === 1 ? "it" : "them"}\n`);
        process.exitCode = 1;
      } else if (!flags.check) {
        process.stdout.write(unformatted.length === 0 ? `${files.length} file${files.length === 1 ? "" : "s"} already formatted\n` : `${unformatted.map((f) => `formatted ${f}`).join("\n")}\n`);
      }
      if (broken > 0) fail(`${broken} file${broken === 1 ? "" : "s"} could not be parsed; fix the errors above`);
    });
}
