import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createRegistry, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { parse } from "yaml";
import { type Bootstrap, BootstrapSchema } from "../../src/gen/envoy/config/bootstrap/v3/bootstrap_pb.js";
import { file_envoy_extensions_access_loggers_stream_v3_stream } from "../../src/gen/envoy/extensions/access_loggers/stream/v3/stream_pb.js";
import { type ExtAuthz, ExtAuthzSchema, file_envoy_extensions_filters_http_ext_authz_v3_ext_authz } from "../../src/gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js";
import { file_envoy_extensions_filters_http_jwt_authn_v3_config } from "../../src/gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js";
import { file_envoy_extensions_filters_http_router_v3_router } from "../../src/gen/envoy/extensions/filters/http/router/v3/router_pb.js";
import {
  file_envoy_extensions_filters_network_http_connection_manager_v3_http_connection_manager,
  type HttpConnectionManager,
  HttpConnectionManager_PathWithEscapedSlashesAction as EscapedSlashes,
  HttpConnectionManagerSchema,
} from "../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js";
import { file_envoy_extensions_upstreams_http_v3_http_protocol_options } from "../../src/gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js";
import { HttpProtocolOptions_HeadersWithUnderscoresAction as Underscores } from "../../src/gen/envoy/config/core/v3/protocol_pb.js";
import { StatusCode } from "../../src/gen/envoy/type/v3/http_status_pb.js";
import { REPO } from "../helpers/bundles.js";

// Every typed_config the compose Envoy uses; an unknown one fails the parse, as it would in Envoy.
const registry = createRegistry(
  file_envoy_extensions_filters_network_http_connection_manager_v3_http_connection_manager,
  file_envoy_extensions_filters_http_ext_authz_v3_ext_authz,
  file_envoy_extensions_filters_http_jwt_authn_v3_config,
  file_envoy_extensions_filters_http_router_v3_router,
  file_envoy_extensions_access_loggers_stream_v3_stream,
  file_envoy_extensions_upstreams_http_v3_http_protocol_options,
);

const load = (): Bootstrap => fromJson(BootstrapSchema, parse(readFileSync(join(REPO, "deploy/envoy/envoy.yaml"), "utf8")) as JsonValue, { registry, ignoreUnknownFields: false });

function connectionManagers(b: Bootstrap): HttpConnectionManager[] {
  return b.staticResources!.listeners.flatMap((l) =>
    l.filterChains.flatMap((c) => c.filters.map((f) => (f.configType.case === "typedConfig" ? anyUnpack(f.configType.value, HttpConnectionManagerSchema) : undefined)).filter((h) => h !== undefined)),
  );
}

describe("deploy/envoy/envoy.yaml", () => {
  it("is a valid envoy.config.bootstrap.v3.Bootstrap under Envoy's own protos", () => {
    const b = load();
    assert.ok(b.staticResources!.listeners.length > 0);
    assert.deepEqual(b.staticResources!.clusters.map((c) => c.name).sort(), ["upstream", "verdict"]);
  });

  it("pins the safe HTTP connection manager settings on every listener", () => {
    const hcms = connectionManagers(load());
    assert.ok(hcms.length > 0);
    for (const h of hcms) {
      assert.equal(h.normalizePath, true, "normalize_path");
      assert.equal(h.mergeSlashes, true, "merge_slashes");
      assert.equal(h.pathWithEscapedSlashesAction, EscapedSlashes.REJECT_REQUEST, "path_with_escaped_slashes_action");
      assert.equal(h.commonHttpProtocolOptions?.headersWithUnderscoresAction, Underscores.REJECT_REQUEST, "headers_with_underscores_action");
    }
  });

  it("pins ext_authz to fail closed, 403 on error, 250 ms, peer certificate, Verdict's gRPC cluster", () => {
    const hcms = connectionManagers(load());
    for (const h of hcms) {
      const names = h.httpFilters.map((f) => f.name);
      assert.equal(names.at(-1), "envoy.filters.http.router", "the router is last");
      const filters = h.httpFilters.filter((f) => f.name === "envoy.filters.http.ext_authz");
      assert.equal(filters.length, 1, "one ext_authz filter");
      assert.ok(names.indexOf("envoy.filters.http.ext_authz") < names.indexOf("envoy.filters.http.router"));
      const typed = filters[0]!.configType;
      assert.equal(typed.case, "typedConfig");
      const authz: ExtAuthz | undefined = typed.case === "typedConfig" ? anyUnpack(typed.value, ExtAuthzSchema) : undefined;
      assert.ok(authz);
      assert.equal(authz.failureModeAllow, false);
      assert.equal(authz.statusOnError?.code, StatusCode.Forbidden);
      assert.equal(authz.includePeerCertificate, true);
      assert.equal(authz.services.case, "grpcService");
      const grpc = authz.services.case === "grpcService" ? authz.services.value : undefined;
      assert.equal(grpc?.targetSpecifier.case === "envoyGrpc" ? grpc.targetSpecifier.value.clusterName : "", "verdict");
      assert.equal(Number(grpc?.timeout?.seconds ?? 0n) * 1000 + (grpc?.timeout?.nanos ?? 0) / 1e6, 250);
    }
  });

  it("the compose stack names Envoy, Verdict, Redis, Prometheus and a sample upstream, and every mounted file exists", () => {
    const compose = parse(readFileSync(join(REPO, "docker-compose.yml"), "utf8")) as { services: Record<string, { image?: string; volumes?: string[] }> };
    for (const s of ["envoy", "verdict", "redis", "prometheus", "upstream"]) assert.ok(compose.services[s], s);
    assert.match(compose.services["envoy"]!.image ?? "", /^envoyproxy\/envoy:/);
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const v of svc.volumes ?? []) {
        const host = v.split(":")[0]!;
        if (host.startsWith(".")) assert.ok(existsSync(join(REPO, host)), `${name} mounts ${host}`);
      }
    }
  });
});
