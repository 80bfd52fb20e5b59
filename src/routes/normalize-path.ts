/** A request path split and normalized for matching, or why it is refused. */
export type NormalizedPath = { readonly ok: true; readonly path: string; readonly segments: readonly string[]; readonly query: URLSearchParams } | { readonly ok: false; readonly reason: string };

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Normalizes an HTTP request target for route matching, without `new URL()` (which reads
 * `//admin/people` as host `admin`). The query and fragment are split off; each segment is
 * percent-decoded once; `.` and empty segments are dropped and `..` removes the previous one.
 * A target whose meaning depends on who decodes it is refused: an encoded `/` or `\`, a `;`
 * (path parameters: Tomcat and Spring strip `;jsessionid=…` from a segment, most servers keep
 * it, so `/docs/secret;x` could be decided as `secret;x` and served as `secret`), a NUL or
 * control character, invalid percent-encoding or invalid UTF-8, or `..` above the root.
 */
export function normalizePath(target: string): NormalizedPath {
  if (!target.startsWith("/")) return { ok: false, reason: "path must start with /" };
  const hash = target.indexOf("#");
  const noFragment = hash < 0 ? target : target.slice(0, hash);
  const q = noFragment.indexOf("?");
  const rawPath = q < 0 ? noFragment : noFragment.slice(0, q);
  const query = new URLSearchParams(q < 0 ? "" : noFragment.slice(q + 1));
  const out: string[] = [];
  for (const raw of rawPath.split("/")) {
    if (/%2f|%5c/i.test(raw)) return { ok: false, reason: "encoded / or \\ in a path segment" };
    if (/;|%3b/i.test(raw)) return { ok: false, reason: "; in a path segment (path parameters mean different things to different servers)" };
    let seg: string;
    try {
      seg = decoder.decode(percentDecode(raw));
    } catch {
      return { ok: false, reason: "invalid percent-encoding or UTF-8 in the path" };
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f\\]/.test(seg)) return { ok: false, reason: "control character or backslash in the path" };
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length === 0) return { ok: false, reason: "path climbs above the root" };
      out.pop();
      continue;
    }
    out.push(seg);
  }
  return { ok: true, path: `/${out.join("/")}`, segments: out, query };
}

function percentDecode(s: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Error("bad escape");
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      bytes.push(...Buffer.from(s[i]!, "utf8"));
    }
  }
  return Uint8Array.from(bytes);
}
