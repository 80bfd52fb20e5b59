import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { loadConfig } from "../../src/config/load-config.js";
import { type CheckResponse, CheckRequestSchema, Decision } from "../../src/gen/verdict/v1/authorization_pb.js";
import { create } from "@bufbuild/protobuf";
import { REPO, writeBundle } from "../helpers/bundles.js";
import { startVerdict } from "../helpers/start-verdict.js";

const BASE = join(REPO, "deploy", "kubernetes", "base");
type Doc = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };
type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every object the kustomization lists, parsed. */
function manifests(): Doc[] {
  const kustomization = parseYaml(readFileSync(join(BASE, "kustomization.yaml"), "utf8")) as { resources: string[] };
  return kustomization.resources.flatMap((file) => parseAllDocuments(readFileSync(join(BASE, file), "utf8")).map((d) => d.toJS() as Doc));
}

/**
 * Validates an object against the Kubernetes API schema of its apiVersion and kind, with the
 * validators `kubernetes-models` generates from Kubernetes' published OpenAPI document.
 */
async function validate(doc: Doc): Promise<void> {
  const [group, version] = doc.apiVersion.includes("/") ? doc.apiVersion.split("/") : ["", doc.apiVersion];
  const models = (await import(group === "" ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`)) as Record<string, new (d: unknown) => { validate(): void }>;
  const Model = models[doc.kind];
  assert.ok(Model, `no schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc).validate();
}

const find = (docs: Doc[], kind: string, name?: string) => docs.find((d) => d.kind === kind && (name === undefined || d.metadata.name === name)) as Any | undefined ?? assert.fail(`no ${kind} ${name ?? ""}`);

describe("deploy/kubernetes: the kustomize base", () => {
  const docs = manifests();

  it("every manifest is valid against the Kubernetes API schemas", async () => {
    assert.ok(docs.length >= 9);
    for (const d of docs) await assert.doesNotReject(validate(d), `${d.kind} ${d.metadata.name}`);
    // The validator does refuse a wrong manifest.
    const broken = structuredClone(find(docs, "Deployment")) as Any;
    broken.spec.replicas = "two";
    await assert.rejects(validate(broken as Doc), /replicas must be integer/);
  });

  it("the Deployment runs two hardened replicas with probes, a drain and bounded resources", () => {
    const d = find(docs, "Deployment");
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    assert.ok(d.spec.replicas >= 2);
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"]);
    assert.equal(c.readinessProbe.httpGet.path, "/readyz");
    assert.equal(c.livenessProbe.httpGet.path, "/healthz");
    assert.ok(c.lifecycle.preStop);
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory);
    // The drain fits in the grace period: preStop + shutdown delay + in-flight grace.
    const env = Object.fromEntries((c.env as Any[]).map((e) => [e.name, e.value]));
    const drainMs = c.lifecycle.preStop.sleep.seconds * 1000 + Number(env.VERDICT_SERVER_SHUTDOWN_DELAY_MS) + Number(env.VERDICT_SERVER_SHUTDOWN_GRACE_MS);
    assert.ok(drainMs < pod.terminationGracePeriodSeconds * 1000, `${drainMs} ms of drain in ${pod.terminationGracePeriodSeconds} s`);
    // Every writable path is a volume (the root filesystem is read-only).
    assert.ok((c.volumeMounts as Any[]).some((m) => env.VERDICT_BUNDLES_STATE_DIR.startsWith(m.mountPath) && !m.readOnly));
  });

  it("the Deployment's settings are ones Verdict accepts", () => {
    const c = find(docs, "Deployment").spec.template.spec.containers[0];
    const env: Record<string, string> = {};
    for (const e of c.env as Any[]) {
      if (!e.name.startsWith("VERDICT_")) continue;
      // Values from Secrets: what an operator puts there.
      env[e.name] = e.value ?? { VERDICT_REDIS_URL: "redis+sentinel://redis-sentinel:26379/mymaster", VERDICT_CACHE_MAC_SECRET: "a-real-secret-0123456789" }[e.name as string] ?? "token";
    }
    const config = loadConfig({ env });
    assert.equal(config.server.grpcAddr, "0.0.0.0:50051");
    assert.equal(config.policies.dir, "/etc/verdict/policies");
    // With the placeholder secret Verdict refuses to start, naming the setting.
    assert.throws(() => loadConfig({ env: { ...env, VERDICT_CACHE_MAC_SECRET: "REPLACE_ME" } }), /cache\.macSecret/);
  });

  it("Services, PodDisruptionBudget, autoscaler and NetworkPolicy fit the Deployment", () => {
    const labels = find(docs, "Deployment").spec.template.metadata.labels;
    const ports = Object.fromEntries((find(docs, "Deployment").spec.template.spec.containers[0].ports as Any[]).map((p) => [p.name, p.containerPort]));
    for (const svc of docs.filter((d) => d.kind === "Service") as Any[]) {
      for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(labels[k], v);
      for (const p of svc.spec.ports) assert.ok(ports[p.targetPort], `${svc.metadata.name}: ${p.targetPort} is a container port`);
    }
    assert.deepEqual((find(docs, "Service", "verdict").spec.ports as Any[]).map((p) => p.targetPort), ["grpc", "http"], "the main Service never exposes admin");
    assert.equal(find(docs, "PodDisruptionBudget").spec.minAvailable, 1);
    const hpa = find(docs, "HorizontalPodAutoscaler");
    assert.equal(hpa.spec.scaleTargetRef.name, "verdict");
    assert.ok(hpa.spec.minReplicas >= 2);
    const np = find(docs, "NetworkPolicy");
    const adminRules = (np.spec.ingress as Any[]).filter((r) => (r.ports as Any[]).some((p) => p.port === "admin"));
    assert.equal(adminRules.length, 1);
    assert.deepEqual(adminRules[0]!.from, [{ podSelector: { matchLabels: { "verdict-admin": "true" } } }], "only labelled pods reach the admin listener");
    assert.equal(find(docs, "ServiceAccount").automountServiceAccountToken, false);
  });

  it("the ConfigMap holds a bundle Verdict serves", async () => {
    const bundle = writeBundle(find(docs, "ConfigMap", "verdict-policies").data as Record<string, string>);
    const v = await startVerdict(bundle.dir);
    try {
      const req = create(CheckRequestSchema, {
        principal: { uid: { type: "User", id: "ann" }, parents: [{ type: "Group", id: "admins" }] },
        action: { type: "Action", id: "read" },
        resource: { uid: { type: "Doc", id: "d1" } },
      });
      const res = await v.client.call<CheckResponse>("check", req);
      assert.equal(res.bundleRevision, "k8s-1");
      assert.equal(res.decision, Decision.ALLOW);
    } finally {
      await v.stop();
      bundle.cleanup();
    }
  });
});
