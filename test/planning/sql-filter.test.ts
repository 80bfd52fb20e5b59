import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import pg from "pg";
import { CedarRuntime } from "../../src/engine/cedar-runtime.js";
import type { Entity, EntityUid, Value } from "../../src/model/entity.js";
import type { Plan, ResourceFilter } from "../../src/model/resource-filter.js";
import { closureTableAncestry, type SqlFilterOptions, toSqlFilter } from "../../src/planning/sql-filter.js";
import { compileFiles, FILES_ENTITIES, fileArbitrary, filesRequestArbitrary } from "./files-scenario.js";

const conditional = (filter: ResourceFilter): Plan => ({ kind: "conditional", filter, permitPolicies: [], forbidPolicies: [] });
const attr = (...path: string[]) => ({ kind: "attribute" as const, path });
const str = (value: string) => ({ kind: "value" as const, value: { kind: "string", value } as Value });
const columns = { name: "name", owner: "owner_id", labels: "labels", "meta.note": "meta_note", size: "size" };

describe("SQL filter: shape", () => {
  it("always allowed and always denied need no parameters", () => {
    assert.deepEqual(toSqlFilter({ kind: "always_allowed", permitPolicies: [], forbidPolicies: [] }, { columns }), { where: "TRUE", params: [] });
    assert.deepEqual(toSqlFilter({ kind: "always_denied", permitPolicies: [], forbidPolicies: [] }, { columns }), { where: "FALSE", params: [] });
  });
  it("values travel only as parameters, never in the text", () => {
    const hostile = "x'; DROP TABLE files; --";
    const sql = toSqlFilter(conditional({ op: "or", args: [{ op: "==", left: attr("name"), right: str(hostile) }, { op: "contains", set: attr("labels"), element: str(hostile) }] }), { columns });
    assert.equal(sql.where, "(name = $1 OR $2 = ANY(labels))");
    assert.deepEqual(sql.params, [hostile, hostile]);
  });
  it("an entity value binds its id; `?` placeholders on request", () => {
    const sql = toSqlFilter(conditional({ op: "==", left: attr("owner"), right: { kind: "value", value: { kind: "entity", uid: { type: "User", id: "u1" } } } }), { columns, placeholders: "question" });
    assert.deepEqual(sql, { where: "owner_id = ?", params: ["u1"] });
  });
  it("under a negation a NULL column reads false, as an absent attribute does in the filter", () => {
    const sql = toSqlFilter(conditional({ op: "not", arg: { op: "==", left: attr("meta", "note"), right: str("x") } }), { columns });
    assert.equal(sql.where, "NOT (meta_note IS NOT NULL AND meta_note = $1)");
  });
  it("a like pattern escapes LIKE's own wildcards and binds the pattern", () => {
    const sql = toSqlFilter(conditional({ op: "like", left: attr("name"), pattern: [{ literal: "50%_off!" }, { wildcard: true }] }), { columns });
    assert.deepEqual(sql, { where: "name LIKE $1 ESCAPE '!'", params: ["50!%!_off!!%"] });
  });
  it("ancestry goes through the caller's mapping, with the ancestor bound", () => {
    const plan = conditional({ op: "in", left: { kind: "resource" }, ancestor: { type: "Folder", id: "shared" } });
    assert.throws(() => toSqlFilter(plan, { columns, idColumn: "id" }), /ancestry mapping/);
    assert.deepEqual(toSqlFilter(plan, { columns, idColumn: "id", ancestry: closureTableAncestry("file_ancestors") }), {
      where: "(id IN (SELECT descendant_id FROM file_ancestors WHERE ancestor_type = $1 AND ancestor_id = $2))",
      params: ["Folder", "shared"],
    });
  });
  it("an attribute without a column, or a column that is not a name, is refused", () => {
    assert.throws(() => toSqlFilter(conditional({ op: "has", path: ["secret"] }), { columns }), /no column for resource attribute "secret"/);
    assert.throws(() => toSqlFilter(conditional({ op: "has", path: ["name"] }), { columns: { name: "name; DROP TABLE x" } }), /not a column or table name/);
    assert.throws(() => toSqlFilter(conditional({ op: "==", left: { kind: "resource" }, right: str("x") }), { columns }), /give idColumn/);
  });
});

/**
 * The SQL against a real PostgreSQL (127.0.0.1:5432, trust auth, database `test`, as on this
 * project's machines): random files in a temporary table, and for random requests the rows the
 * WHERE clause selects are exactly the files Check allows. Skipped when no server answers.
 */
describe("SQL filter against PostgreSQL: the rows selected are exactly the files Check allows", () => {
  const client = new pg.Client({ host: "127.0.0.1", port: 5432, user: "postgres", database: "test", connectionTimeoutMillis: 3000 });
  let available = false;
  const files = fc.sample(fileArbitrary, { numRuns: 300, seed: 77 }).map((f, i): Entity => ({ ...f, uid: { type: "Files::File", id: `f${i}` } }));

  before(async () => {
    try {
      await client.connect();
      available = true;
    } catch {
      return;
    }
    // Temporary tables live and die with this connection.
    await client.query(`CREATE TEMP TABLE files (id text PRIMARY KEY, owner_id text NOT NULL, size bigint NOT NULL, name text NOT NULL,
      labels text[] NOT NULL, editors text[] NOT NULL, meta_level bigint NOT NULL, meta_note text, archived boolean)`);
    await client.query("CREATE TEMP TABLE entity_ancestors (descendant_id text, ancestor_type text, ancestor_id text)");
    const parents = new Map<string, readonly EntityUid[]>(FILES_ENTITIES.map((e) => [e.uid.id, e.parents]));
    const ancestorsOf = (start: readonly EntityUid[]): EntityUid[] => {
      const out: EntityUid[] = [];
      const stack = [...start];
      while (stack.length > 0) {
        const p = stack.pop()!;
        if (out.some((o) => o.type === p.type && o.id === p.id)) continue;
        out.push(p);
        stack.push(...(parents.get(p.id) ?? []));
      }
      return out;
    };
    const read = (f: Entity, name: string): Value | undefined => f.attrs[name];
    const text = (v: Value | undefined) => (v?.kind === "string" ? v.value : v?.kind === "entity" ? v.uid.id : null);
    for (const f of files) {
      const meta = read(f, "meta") as Value & { kind: "record" };
      const ids = (v: Value | undefined) => (v as Value & { kind: "set" }).values.map(text);
      await client.query("INSERT INTO files VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", [
        f.uid.id,
        text(read(f, "owner")),
        (read(f, "size") as Value & { kind: "long" }).value,
        text(read(f, "name")),
        ids(read(f, "labels")),
        ids(read(f, "editors")),
        (meta.fields["level"] as Value & { kind: "long" }).value,
        text(meta.fields["note"]),
        (read(f, "archived") as (Value & { kind: "bool" }) | undefined)?.value ?? null,
      ]);
      for (const a of ancestorsOf(f.parents)) await client.query("INSERT INTO entity_ancestors VALUES ($1, $2, $3)", [f.uid.id, a.type, a.id]);
    }
    // The owners' teams, for `resource.owner in principal.team`.
    for (const u of FILES_ENTITIES.filter((e) => e.uid.type === "Files::User")) {
      for (const a of ancestorsOf(u.parents)) await client.query("INSERT INTO entity_ancestors VALUES ($1, $2, $3)", [u.uid.id, a.type, a.id]);
    }
  });
  after(() => client.end().catch(() => undefined));

  it("for random requests, in both placeholder styles' parameter order", async (t) => {
    if (!available) {
      t.skip("no PostgreSQL on 127.0.0.1:5432");
      return;
    }
    const policies = compileFiles(new CedarRuntime(), true);
    const options: SqlFilterOptions = {
      columns: { owner: "owner_id", size: "size", name: "name", labels: "labels", editors: "editors", "meta.level": "meta_level", "meta.note": "meta_note", archived: "archived" },
      idColumn: "id",
      ancestry: closureTableAncestry("entity_ancestors"),
    };
    let compared = 0;
    let selected = 0;
    for (const request of fc.sample(filesRequestArbitrary, { numRuns: 60, seed: 78 })) {
      const plan = policies.plan(request);
      const sql = toSqlFilter(plan, options);
      const rows = await client.query<{ id: string }>(`SELECT id FROM files WHERE ${sql.where}`, sql.params);
      const others = FILES_ENTITIES.filter((e) => e.uid.id !== request.principal.uid.id);
      const allowed = files
        .filter((f) => policies.evaluate({ principal: request.principal, action: request.action, resource: f, context: request.context, entities: others }).decision === "allow")
        .map((f) => f.uid.id)
        .sort();
      assert.deepEqual(rows.rows.map((r) => r.id).sort(), allowed, `${JSON.stringify(request)}\n${sql.where}\n${JSON.stringify(sql.params)}`);
      compared += files.length;
      selected += allowed.length;
    }
    assert.ok(compared >= 18_000 && selected > 0, `${selected} of ${compared}`);
  });
});
