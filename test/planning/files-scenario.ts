import fc from "fast-check";
import { CedarEngine } from "../../src/engine/cedar-engine.js";
import type { CedarRuntime } from "../../src/engine/cedar-runtime.js";
import type { CompiledPolicies } from "../../src/engine/compiled-policies.js";
import type { Entity, EntityUid, Value } from "../../src/model/entity.js";
import type { PlanRequest } from "../../src/model/plan-request.js";

/**
 * A file-sharing bundle whose policies use every construct a resource filter has: ancestry of
 * the resource and of an attribute, containment, `has` on optional attributes, `like`,
 * orderings, if-then-else, `unless`, and a forbid that errors for some requests (strict mode).
 * Shared by the plan property test and the SQL test against PostgreSQL.
 */
export const FILES_SCHEMA = `
namespace Files {
  entity Team;
  entity User in [Team] = { clearance: Long, team: Team };
  entity Folder in [Folder];
  entity File in [Folder] = {
    owner: User, size: Long, name: String, labels: Set<String>, editors: Set<User>,
    meta: { level: Long, note?: String }, archived?: Bool,
  };
  action read, write, purge appliesTo { principal: User, resource: File, context: { now: Long, override: Bool } };
}`;

export const FILES_POLICIES = `
@id("shared-folder") permit (principal, action == Files::Action::"read", resource in Files::Folder::"shared");
@id("public-files") permit (principal, action == Files::Action::"read", resource is Files::File in Files::Folder::"public")
  when { resource has archived && resource.archived == false };
@id("editors-read") permit (principal, action == Files::Action::"read", resource) when { principal in resource.editors };
@id("owner-write") permit (principal, action == Files::Action::"write", resource) when { resource.owner == principal || resource.editors.contains(principal) };
@id("team-write") permit (principal, action == Files::Action::"write", resource) when { resource.owner in principal.team };
@id("cleared-text") permit (principal, action == Files::Action::"read", resource) when { resource.meta.level <= principal.clearance && resource.name like "*.txt" };
@id("labelled") permit (principal, action == Files::Action::"read", resource) when { resource.labels.containsAny(["open", "public"]) };
@id("notes") permit (principal, action == Files::Action::"read", resource)
  when { if resource.meta has note then resource.meta.note != "hidden" && resource.size < 50 else resource.size < 20 };
@id("purge-big") permit (principal, action == Files::Action::"purge", resource) when { resource.size > 1000 && context.override };
@id("purge-admin") permit (principal, action == Files::Action::"purge", resource) when { principal.clearance >= 9 };
@id("secret") forbid (principal, action == Files::Action::"read", resource) when { resource.labels.contains("secret") && principal.clearance < 5 };
@id("locked") forbid (principal, action == Files::Action::"write", resource) when { resource.meta has note && resource.meta.note like "LOCK*" };
@id("frozen") forbid (principal, action == Files::Action::"write", resource) unless { resource.meta.level < 8 };
@id("purge-window") forbid (principal, action == Files::Action::"purge", resource) when { resource.size < 10 || context.now * 4611686018427387904 > 0 };
`;

export const compileFiles = (runtime: CedarRuntime, strict: boolean): CompiledPolicies =>
  new CedarEngine(runtime, { strict, maxPolicyNesting: 64 }).compile({
    policyFiles: [{ path: "files.cedar", text: FILES_POLICIES }],
    schema: { path: "schema.cedarschema", text: FILES_SCHEMA, format: "cedar" },
  });

const S = (value: string): Value => ({ kind: "string", value });
const L = (value: number): Value => ({ kind: "long", value });
const B = (value: boolean): Value => ({ kind: "bool", value });
const E = (type: string, id: string): Value => ({ kind: "entity", uid: { type, id } });
const SET = (values: Value[]): Value => ({ kind: "set", values });
const entity = (type: string, id: string, attrs: Record<string, Value> = {}, parents: EntityUid[] = []): Entity => ({ uid: { type, id }, attrs, parents, tags: {} });

const teams: Record<string, string> = { u1: "red", u2: "blue", u3: "red" };
const user = (id: string, clearance: number) => entity("Files::User", id, { clearance: L(clearance), team: E("Files::Team", teams[id]!) }, [{ type: "Files::Team", id: teams[id]! }]);
const folder = (id: string, parent?: string) => entity("Files::Folder", id, {}, parent === undefined ? [] : [{ type: "Files::Folder", id: parent }]);

/** The folders and users a Check request carries besides principal and file (ancestry and the owner's team). */
export const FILES_ENTITIES: readonly Entity[] = [folder("root"), folder("shared", "root"), folder("public", "root"), folder("deep", "shared"), user("u1", 1), user("u2", 6), user("u3", 9)];

/** A random file; its id is chosen by the caller's index when ids must be unique. */
export const fileArbitrary = fc
  .record({
    id: fc.constantFrom("f1", "f2"),
    owner: fc.constantFrom("u1", "u2", "u3"),
    size: fc.oneof(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 900, max: 1100 })),
    name: fc.constantFrom("a.txt", "b.md", ".txt", "txt"),
    labels: fc.subarray(["open", "public", "secret", "misc"]),
    editors: fc.subarray(["u1", "u2", "u3"]),
    level: fc.integer({ min: 0, max: 10 }),
    note: fc.option(fc.constantFrom("hidden", "LOCKED", "LOCK", "lock", "ok"), { nil: undefined }),
    archived: fc.option(fc.boolean(), { nil: undefined }),
    folders: fc.subarray(["root", "shared", "public", "deep"], { maxLength: 2 }),
  })
  .map((f) => {
    const meta: Record<string, Value> = { level: L(f.level), ...(f.note === undefined ? {} : { note: S(f.note) }) };
    return entity(
      "Files::File",
      f.id,
      {
        owner: E("Files::User", f.owner),
        size: L(f.size),
        name: S(f.name),
        labels: SET(f.labels.map(S)),
        editors: SET(f.editors.map((u) => E("Files::User", u))),
        meta: { kind: "record", fields: meta },
        ...(f.archived === undefined ? {} : { archived: B(f.archived) }),
      },
      f.folders.map((id) => ({ type: "Files::Folder", id })),
    );
  });

/** A random plan request of the files bundle. */
export const filesRequestArbitrary = fc
  .record({
    id: fc.constantFrom("u1", "u2", "u3"),
    clearance: fc.integer({ min: 0, max: 10 }),
    action: fc.constantFrom("read", "write", "purge"),
    now: fc.constantFrom(0, 1, 2, -1),
    override: fc.boolean(),
  })
  .map(
    (c): PlanRequest => ({
      principal: user(c.id, c.clearance),
      action: { type: "Files::Action", id: c.action },
      resourceType: "Files::File",
      context: { now: L(c.now), override: B(c.override) },
      entities: [],
    }),
  );
