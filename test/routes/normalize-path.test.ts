import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { normalizePath } from "../../src/routes/normalize-path.js";

const pathOf = (t: string) => {
  const n = normalizePath(t);
  return n.ok ? n.path : `refused: ${n.reason}`;
};

describe("normalizePath: what routes match on", () => {
  it("resolves empty, . and .. segments and splits the query and fragment, never reading //x as a host", () => {
    const cases: [string, string][] = [
      ["/v1/tenants/acme/documents/d1", "/v1/tenants/acme/documents/d1"],
      ["//admin/people", "/admin/people"],
      ["///admin//people/", "/admin/people"],
      ["/v1/../admin", "/admin"],
      ["/v1/./x/%2e%2e/admin", "/v1/admin"],
      ["/a/b?x=1&y=/../c#frag", "/a/b"],
      ["/caf%C3%A9", "/café"],
      ["/%41dmin", "/Admin"],
      ["/ADMIN", "/ADMIN"],
    ];
    for (const [input, want] of cases) assert.equal(pathOf(input), want, input);
    const q = normalizePath("/a?x=1&x=2");
    assert.ok(q.ok);
    assert.deepEqual(q.query.getAll("x"), ["1", "2"]);
  });

  it("refuses a path whose meaning depends on who decodes it", () => {
    for (const input of ["/admin%2Fusers", "/admin%2fusers", "/a%5Cb", "/a\\b", "/a%00b", "/a%0d%0ab", "/a%zz", "/a%C3%28", "/a%ff", "/..", "/a/../../b", "admin", "", "http://host/admin", "/admin;x/users", "/docs/secret;jsessionid=1", "/a%3Bb", "/%252F"]) {
      const n = normalizePath(input);
      if (input === "/%252F") {
        // Decoded once: "%2F" is literal text in a segment, never a second decode.
        assert.ok(n.ok && n.segments[0] === "%2F", input);
        continue;
      }
      assert.equal(n.ok, false, input);
    }
  });

  it("its output is canonical: no empty, . or .. segment, and normalizing again changes nothing", () => {
    const segment = fc.constantFrom("a", "b", ".", "..", "", "%2e", "%2E%2e", "x%20y", "é");
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (segs) => {
        const n = normalizePath(`/${segs.join("/")}`);
        if (!n.ok) return;
        assert.ok(n.segments.every((s) => s !== "" && s !== "." && s !== ".."));
        const again = normalizePath(n.path.split("/").map((s) => encodeURIComponent(s)).join("/"));
        assert.ok(again.ok);
        assert.equal(again.path, n.path);
      }),
    );
  });
});
