import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { settingsMarkdown } from "../src/config/settings-table.js";
import { REPO } from "./helpers/bundles.js";

it("the README's configuration table lists every setting as the code defines it", () => {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const table = /<!-- settings:begin -->\n([\s\S]*?)\n<!-- settings:end -->/.exec(readme)?.[1];
  assert.equal(table, settingsMarkdown(), "regenerate it with `npx verdict config --settings`");
});
