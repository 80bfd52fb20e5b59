import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { createRegistry, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { parse } from "yaml";
import { file_envoy_config_bootstrap_v3_bootstrap, BootstrapSchema } from "../../src/gen/envoy/config/bootstrap/v3/bootstrap_pb.js";
import { file_envoy_extensions_filters_http_ext_authz_v3_ext_authz, type ExtAuthz } from "../../src/gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js";
import { file_envoy_extensions_filters_http_router_v3_router } from "../../src/gen/envoy/extensions/filters/http/router/v3/router_pb.js";
import {
  file_envoy_extensions_filters_network_http_connection_manager_v3_http_connection_manager,
  type HttpConnectionManager,
  HttpConnectionManager_PathWithEscapedSlashesAction,
} from "../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js";
import { file_envoy_extensions_upstreams_http_v3_http_protocol_options } from "../../src/gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js";
import { HttpProtocolOptions_HeadersWithUnderscoresAction } from "../../src/gen/envoy/config/core/v3/protocol_pb.js";
import { REPO } from "../helpers/bundles.js";

// deploy/envoy/envoy.yaml is checked against Envoy's own config protos (strictly: an unknown
// or misspelled field fails), and the settings that keep ext_authz fail-closed are asserted.
it("deploy/envoy/envoy.yaml is a valid Bootstrap that pins the safe ext_authz settings", () => {
  const registry = createRegistry(
    file_envoy_config_bootstrap_v3_bootstrap,
    file_envoy_extensions_filters_network_http_connection_manager_v3_http_connection_manager,
    file_envoy_extensions_filters_http_ext_authz_v3_ext_authz,
    file_envoy_extensions_filters_http_router_v3_router,
    file_envoy_extensions_upstreams_http_v3_http_protocol_options,
  );
  const yaml = parse(readFileSync(join(REPO, "deploy/envoy/envoy.yaml"), "utf8")) as JsonValue;
  const bootstrap = fromJson(BootstrapSchema, yaml, { registry });
  const filter = bootstrap.staticResources!.listeners[0]!.filterChains[0]!.filters[0]!;
  assert.equal(filter.configType.case, "typedConfig");
  const hcmAny = filter.configType.value!;
  const manager = anyUnpack(hcmAny, registry) as HttpConnectionManager;
  assert.equal(manager.normalizePath, true);
  assert.equal(manager.mergeSlashes, true);
  assert.equal(manager.pathWithEscapedSlashesAction, HttpConnectionManager_PathWithEscapedSlashesAction.REJECT_REQUEST);
  assert.equal(manager.commonHttpProtocolOptions?.headersWithUnderscoresAction, HttpProtocolOptions_HeadersWithUnderscoresAction.REJECT_REQUEST);
  const authzFilter = manager.httpFilters.find((f) => f.name === "envoy.filters.http.ext_authz")!;
  const authz = anyUnpack(authzFilter.configType.value as never, registry) as ExtAuthz;
  assert.equal(authz.failureModeAllow, false);
  assert.equal(authz.statusOnError?.code, 403);
  assert.equal(authz.includePeerCertificate, true);
  assert.equal(authz.services.case, "grpcService");
  const timeout = authz.services.value!.timeout!;
  assert.equal(Number(timeout.seconds) + timeout.nanos / 1e9, 0.25);
  assert.equal(manager.httpFilters.at(-1)!.name, "envoy.filters.http.router", "the router runs last, after ext_authz");
});
