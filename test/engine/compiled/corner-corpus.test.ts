import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CedarEngine } from "../../../src/engine/cedar-engine.js";
import { CedarRuntime } from "../../../src/engine/cedar-runtime.js";
import { outcomeOf, type Outcome } from "../../../src/engine/evaluator-choice.js";
import type { AuthzRequest } from "../../../src/model/authz-request.js";
import type { Value } from "../../../src/model/entity.js";

// Cedar's semantic corners (settled against cedar-wasm 4.13, see docs/evaluators.md): each
// expression is one policy; the determining and erroring sets say, per expression, whether it
// was true, false or an error. The compiled evaluator must say the same as cedar-wasm.
const CORPUS = [
  // i64 arithmetic: overflow is an error
  "3037000500 * 3037000500 > 0",
  "4294967296 * 1073741824 == 4611686018427387904 / 1",
  "(4294967296 * 1073741824) * 2 > 0",
  "(4294967296 * 1073741824) + ((4294967296 * 1073741824) - 1) > 0",
  "(4294967296 * 1073741824) + (4294967296 * 1073741824) > 0",
  "(-4294967296 * 2147483648) < 0",
  "-(-4294967296 * 2147483648) > 0",
  "(-4294967296 * 2147483648) - 1 < 0",
  "-9007199254740991 - 2 < -9007199254740992",
  "9007199254740991 + 2 > 9007199254740992",
  // ipaddr
  `ip("127.0.0.1/4").isLoopback()`, `ip("127.0.0.1/8").isLoopback()`, `ip("127.2.3.4").isLoopback()`, `ip("::1/64").isLoopback()`, `ip("::1").isLoopback()`,
  `ip("224.0.0.0/3").isMulticast()`, `ip("224.0.0.0/4").isMulticast()`, `ip("ff00::/7").isMulticast()`, `ip("ff00::/8").isMulticast()`,
  `ip("10.1.0.0/8") == ip("10.0.0.0/8")`, `ip("10.0.0.1") == ip("10.0.0.1/32")`, `ip("10.5.0.7/8").isInRange(ip("10.0.0.0/8"))`, `ip("10.0.0.0/8").isInRange(ip("10.0.0.0/16"))`,
  `ip("::1").isInRange(ip("0.0.0.0/0"))`, `ip("::ffff:1.2.3.4").isIpv6()`, `ip("01.2.3.4").isIpv4()`, `ip("1.2.3.4/08").isIpv4()`, `ip("1.2.3.4/33").isIpv4()`,
  `ip("fe80::1%eth0").isIpv6()`, `ip(" 1.2.3.4").isIpv4()`, `ip("1.2.3.4") < ip("1.2.3.5")`, `ip("::").isIpv6()`, `ip("1::2::3").isIpv6()`, `ip("2001:db8::1/129").isIpv6()`,
  `ip("1.2.3.4/+8").isIpv4()`, `ip("1:2:3:4:5:6:7:8").isIpv6()`, `ip("1:2:3:4:5:6:7::").isIpv6()`, `ip("1:2:3:4:5:6:7:8:9").isIpv6()`, `ip("00001::").isIpv6()`,
  `context.ip.isInRange(ip("10.0.0.0/8"))`,
  // decimal
  `decimal("1.5") < decimal("2.0")`, `decimal("1.5").lessThan(decimal("2.0"))`, `decimal("1.23456") == decimal("1.2345")`, `decimal("+1.0") == decimal("1.0")`,
  `decimal("1e3") == decimal("1.0")`, `decimal("01.5") == decimal("1.5")`, `decimal("1.50") == decimal("1.5")`, `decimal("922337203685477.5807").greaterThan(decimal("0.0"))`,
  `decimal("922337203685477.5808").greaterThan(decimal("0.0"))`, `decimal("-922337203685477.5808").lessThan(decimal("0.0"))`, `decimal("-0.0") == decimal("0.0")`, `decimal("1.") == decimal("1.0")`,
  `decimal("1.5").lessThanOrEqual(decimal("1.5"))`, `decimal("1.5").greaterThanOrEqual(decimal("1.6"))`,
  // datetime and duration
  `datetime("2024-01-01") < datetime("2024-01-02")`, `datetime("2024-01-01T12:00:00+2400") > datetime("2024-01-01")`, `datetime("2024-01-01T12:00:00+2359") > datetime("2024-01-01")`,
  `datetime("2024-01-01T12:00:60Z") > datetime("2024-01-01")`, `datetime("2024-01-01T12:00:00z") > datetime("2024-01-01")`, `datetime("0000-01-01") < datetime("1970-01-01")`,
  `datetime("10000-01-01") > datetime("1970-01-01")`, `datetime("2024-01-01T12:00:00") > datetime("1970-01-01")`, `datetime("2024-02-30") > datetime("1970-01-01")`,
  `datetime("1969-12-31T23:59:59Z").toDate() == datetime("1969-12-31")`, `datetime("1969-12-31T23:59:59Z").toTime() == duration("23h59m59s")`,
  `datetime("2024-01-01T00:00:00.123Z").toTime() == duration("123ms")`, `datetime("2024-01-01T12:00:00.12Z") > datetime("1970-01-01")`,
  `datetime("2024-01-01T01:00:00+0100") == datetime("2024-01-01")`, `datetime("2024-01-01T00:00:00-0130").toTime() == duration("1h30m")`,
  `duration("2h1d") == duration("1d2h")`, `duration("1H") == duration("1h")`, `duration("01h") == duration("1h")`, `duration("1d1d") == duration("2d")`,
  `duration("-1d").toDays() == -1`, `duration("-90m").toHours() == -1`, `duration("90m").toHours() == 1`, `duration("1d2h3m4s5ms").toMilliseconds() == 93784005`,
  `duration("9223372036854775807ms").toDays() > 0`, `duration("9223372036854775808ms").toDays() > 0`, `duration("106751991167d").toDays() > 0`, `duration("106751991168d").toDays() > 0`,
  `datetime("2024-01-01").offset(duration("9223372036854775807ms")) > datetime("2024-01-01")`, `datetime("2024-01-01").durationSince(datetime("2023-01-01")) == duration("365d")`,
  `duration("1m1ms").toMilliseconds() == 60001`, `duration("") == duration("0ms")`, `duration("-") == duration("0ms")`, `duration("1s") < duration("2s")`, `duration("1s") < datetime("2024-01-01")`,
  `duration("-0s") == duration("0ms")`, `datetime("1960-06-15T10:30:00Z").toDate() < datetime("1960-06-15T10:30:00Z")`,
  // in, has, tags, absent entities
  `User::"a" in [User::"a", 1]`, `User::"a" in {a: 1}`, `User::"nobody" in User::"nobody"`, `User::"nobody" in [User::"nobody"]`, `principal in principal`, `1 in [1]`,
  `User::"nobody" has x`, `User::"nobody".x == 1`, `User::"nobody".hasTag("t")`, `User::"nobody".getTag("t") == 1`, `principal.hasTag("t")`, `principal.getTag("t") == "x"`, `principal.getTag("nope") == "x"`,
  `principal.hasTag(1)`, `1.hasTag("t")`, `context has r.a`, `context has n.a`, `context has r.b`, `context has nope.a`, `principal has parentName`,
  `principal in Group::"g"`, `principal in Group::"top"`, `Group::"g" in Group::"top"`, `principal in [Group::"x", Group::"top"]`, `resource in principal`,
  // && || if: only evaluated operands are type-checked
  "false && 1", "true && 1", "false || 1", "true || 1", "(if 1 then true else false)", "(if true then true else 1)", "!1", "-true == 1",
  // like
  `"a\\nb" like "a*b"`, `"a*b" like "a\\*b"`, `"ab" like "a\\*b"`, `"😀x" like "*x"`, `"😀" like "?"`, `"" like "*"`, `"aaa" like "*a*a*a*"`, `"abc" like "a*c*"`, `context.s like "x*"`, `1 like "*"`,
  // records and keys that are JS prototype names
  `context has constructor`, `context has hasOwnProperty`, `context has __proto__`, `context["__proto__"] == 1`, `{"__proto__": 1} has __proto__`, `{"__proto__": 1}["__proto__"] == 1`,
  `{a: 1, b: 2} == {b: 2, a: 1}`, `{a: 1} == {a: 1, b: 2}`, `{a: 1}.b == 1`, `principal.toString == 1`,
  // sets: structural equality
  `[1, 2] == [2, 1, 1]`, `[{a: 1}, {a: 2}] == [{a: 2}, {a: 1}]`, `[1].contains(1)`, `[ip("1.2.3.4")].contains(ip("1.2.3.4"))`, `[].isEmpty()`, `[1, [2]].containsAll([[2]])`,
  `[1, 2].containsAny([3, 2])`, `[1].containsAll(1)`, `1.contains(1)`, `[decimal("1.0")].contains(decimal("1.00"))`, `[User::"a"] == [User::"a", User::"a"]`,
  // types
  `1 == "1"`, `User::"a" == {type: "User", id: "a"}`, `principal is User`, `principal is Group in 1`, `1 is User`, `principal is User in 1`, `principal is User in [Group::"g"]`,
  `action in Action::"all"`, `action == Action::"read"`, `context.n + 1 == 2`, `context.n < "2"`, `context.missing == 1`,
];

const runtime = new CedarRuntime();
const long = (value: number): Value => ({ kind: "long", value });
const request: AuthzRequest = {
  principal: {
    uid: { type: "User", id: "u" },
    attrs: { parentName: { kind: "string", value: "g" } },
    parents: [{ type: "Group", id: "g" }],
    tags: { t: { kind: "string", value: "x" } },
  },
  action: { type: "Action", id: "read" },
  resource: { uid: { type: "Doc", id: "d" }, attrs: {}, parents: [{ type: "User", id: "u" }], tags: {} },
  context: JSON.parse(JSON.stringify({ n: long(1), s: { kind: "string", value: "xy" }, r: { kind: "record", fields: { a: long(1) } }, ip: { kind: "extension", fn: "ip", arg: "10.1.2.3" }, __proto__: long(1) })) as AuthzRequest["context"],
  entities: [{ uid: { type: "Group", id: "g" }, attrs: {}, parents: [{ type: "Group", id: "top" }], tags: {} }],
};

function status(o: Outcome, id: string): string {
  if ("refused" in o) return "refused";
  if (o.evaluation.errors.some((e) => e.policyId === id)) return "error";
  return o.evaluation.determiningPolicies.includes(id) ? "true" : "false";
}

describe("corner expressions: compiled evaluator vs cedar-wasm", () => {
  it("every corner expression is true, false or an error alike", () => {
    const parseable = CORPUS.filter((e) => runtime.cedar.policyToJson(`permit(principal, action, resource) when { ${e} };`).type === "success");
    assert.ok(parseable.length > CORPUS.length - 10, `only ${parseable.length} of ${CORPUS.length} parse`);
    const text = parseable.map((e, i) => `@id("c${i}") permit(principal, action, resource) when { ${e} };`).join("\n");
    for (const strict of [false, true]) {
      const policies = new CedarEngine(runtime, { strict, maxPolicyNesting: 64, evaluator: "compiled", crossCheckRate: 0 }).compile({ policyFiles: [{ path: "corpus.cedar", text }] });
      assert.equal(policies.evaluator, "compiled");
      const compiled = outcomeOf(() => policies.evaluate(request));
      const wasm = outcomeOf(() => policies.evaluateWasm(request));
      const differ = parseable.map((e, i) => [e, status(compiled, `c${i}`), status(wasm, `c${i}`)]).filter(([, c, w]) => c !== w);
      assert.deepEqual(differ, []);
      assert.ok("evaluation" in wasm, JSON.stringify(wasm));
      assert.ok(wasm.evaluation.errors.length > 30 && wasm.evaluation.determiningPolicies.length > 30, `${wasm.evaluation.errors.length} errors, ${wasm.evaluation.determiningPolicies.length} true`);
    }
  });
});
