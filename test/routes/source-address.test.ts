import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { canonicalIp, forwardedAddress, resolveSourceAddress, UNSPECIFIED_SOURCE } from "../../src/routes/source-address.js";

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join("."));
const anything = fc.oneof(ipv4, fc.string({ maxLength: 12 }), fc.constant("::1"), fc.constant("unknown"));

describe("source address from x-forwarded-for", () => {
  it("is the (N+1)th entry from the right, whatever the client put on the left", () => {
    fc.assert(
      fc.property(fc.array(anything, { maxLength: 5 }), fc.array(ipv4, { minLength: 1, maxLength: 4 }), fc.nat(3), fc.boolean(), (forged, trusted, hops, split) => {
        const n = Math.min(hops, trusted.length - 1);
        // The client controls `forged`; the gateway and the n proxies behind it appended `trusted`.
        const chain = [...forged.filter((f) => !f.includes(",")), ...trusted];
        const headers = split ? chain.map((c) => c) : [chain.join(", ")];
        const r = forwardedAddress(headers, n);
        assert.deepEqual(r, { address: trusted[trusted.length - 1 - n] });
      }),
    );
  });
  it("too few entries or a non-IP at the trusted place is a refusal, never a fallback", () => {
    assert.ok("refuse" in forwardedAddress(["10.0.0.1"], 1));
    assert.ok("refuse" in forwardedAddress(undefined, 0));
    assert.ok("refuse" in forwardedAddress(["unknown, 10.0.0.1"], 1));
    assert.ok("refuse" in forwardedAddress(["10.0.0.1:443"], 0));
  });
  it("IPv4-mapped IPv6 is IPv4; brackets and plain IPv6 are kept; junk is no address", () => {
    assert.equal(canonicalIp("::ffff:10.1.2.3"), "10.1.2.3");
    assert.equal(canonicalIp("::FFFF:10.1.2.3"), "10.1.2.3");
    assert.equal(canonicalIp("[2001:db8::1]"), "2001:db8::1");
    assert.equal(canonicalIp("fe80::1%eth0"), undefined);
    assert.equal(canonicalIp("10.1.2"), undefined);
  });
  it("Envoy: with no trusted hops the peer decides; a peer without an IP is the unspecified address", () => {
    assert.deepEqual(resolveSourceAddress("::ffff:192.0.2.1", ["198.51.100.1"], 0), { address: "192.0.2.1" });
    assert.deepEqual(resolveSourceAddress(undefined, undefined, 0), { address: UNSPECIFIED_SOURCE });
    assert.ok("refuse" in resolveSourceAddress("", undefined, 0));
    assert.deepEqual(resolveSourceAddress("10.0.0.9", ["203.0.113.5, 10.0.0.9"], 1), { address: "203.0.113.5" });
  });
});
