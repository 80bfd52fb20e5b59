// Cerbos CheckResources protobuf encode/decode, using the descriptors shipped in @cerbos/api
// (installed under bench/.tools, benchmark only).
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const TOOLS = join(dirname(fileURLToPath(import.meta.url)), "..", ".tools");
const load = (p) => import(pathToFileURL(join(TOOLS, "node_modules", p)).href);
const pb = await load("@bufbuild/protobuf/dist/esm/index.js");
const { CheckResourcesRequestSchema } = await load("@cerbos/api/lib/protobuf/cerbos/request/v1/request_pb.js");
const { CheckResourcesResponseSchema } = await load("@cerbos/api/lib/protobuf/cerbos/response/v1/response_pb.js");

// The Cerbos method every request goes to.
export const CERBOS_CHECK_PATH = "/cerbos.svc.v1.CerbosService/CheckResources";

// Tag byte of CheckResourcesRequest.request_id (field 1, length-delimited), used for padding.
export const CERBOS_REQUEST_ID_TAG = (1 << 3) | 2;

// CheckResourcesRequest JSON -> protobuf bytes (without request id).
export const encodeCerbosRequest = (json) => pb.toBinary(CheckResourcesRequestSchema, pb.fromJson(CheckResourcesRequestSchema, json));

// CheckResourcesResponse bytes -> "allow" | "deny" for the single resource and action asked.
export function cerbosDecision(bytes, action) {
  const res = pb.fromBinary(CheckResourcesResponseSchema, bytes);
  const effect = res.results[0]?.actions?.[action];
  return effect === 1 ? "allow" : effect === 2 ? "deny" : `effect ${effect}`;
}
