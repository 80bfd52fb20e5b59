import { CONFIG_SPEC } from "./config-spec.js";
import { envNameOf } from "./load-config.js";
import { isSetting, type SpecTree } from "./setting.js";

/** One documented setting. */
export interface SettingDoc {
  readonly path: string;
  readonly env: string;
  readonly default: unknown;
  readonly doc: string;
}

/** Every setting with its environment name, default and description, in spec order. */
export function settingDocs(spec: SpecTree = CONFIG_SPEC, prefix = ""): SettingDoc[] {
  const out: SettingDoc[] = [];
  for (const [key, node] of Object.entries(spec)) {
    const path = `${prefix}${key}`;
    if (isSetting(node)) {
      const env = [envNameOf(path), ...(node.envAliases ?? []).filter((a) => a !== envNameOf(path))].join(", ");
      out.push({ path, env, default: node.default, doc: node.doc });
    } else {
      out.push(...settingDocs(node, `${path}.`));
    }
  }
  return out;
}

/** The settings as a Markdown table, for the README. */
export function settingsMarkdown(): string {
  const rows = settingDocs().map((s) => `| \`${s.path}\` | \`${s.env}\` | ${s.default === undefined ? "—" : `\`${String(s.default)}\``} | ${s.doc} |`);
  return ["| setting (config file) | environment | default | meaning |", "| --- | --- | --- | --- |", ...rows].join("\n");
}
