// verdict.v1.CheckRequest encode / CheckResponse decode, using the generated protobuf-es code
// of a built Verdict checkout (its dist/ and its own @bufbuild/protobuf), so the bench always
// speaks the checkout's current contract.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

// The Verdict method every request goes to.
export const VERDICT_CHECK_PATH = "/verdict.v1.AuthorizationService/Check";

// Tag byte of CheckRequest.request_id (field 6, length-delimited), used for padding.
export const VERDICT_REQUEST_ID_TAG = (6 << 3) | 2;

// Loads the codec from a built checkout; throws with a clear message when it is not built.
export async function loadVerdictCodec(checkoutDir) {
  const gen = join(checkoutDir, "dist/src/gen/verdict/v1/authorization_pb.js");
  const rt = join(checkoutDir, "node_modules/@bufbuild/protobuf/dist/esm/index.js");
  if (!existsSync(gen) || !existsSync(rt)) throw new Error(`no built Verdict checkout at ${checkoutDir} (need ${gen})`);
  const pb = await import(pathToFileURL(rt).href);
  const { CheckRequestSchema, CheckResponseSchema, Decision, CacheStatus } = await import(pathToFileURL(gen).href);
  return {
    encode: (json) => pb.toBinary(CheckRequestSchema, pb.fromJson(CheckRequestSchema, json)),
    // CheckResponse bytes -> { decision: "allow" | "deny" | ..., cache: "MISS" | "HIT_LOCAL" | ... }
    decode(bytes) {
      const r = pb.fromBinary(CheckResponseSchema, bytes);
      const decision = r.decision === Decision.ALLOW ? "allow" : r.decision === Decision.DENY ? "deny" : `decision ${r.decision}`;
      return { decision, cache: CacheStatus[r.cache] ?? String(r.cache) };
    },
  };
}
