/** The mesh layer under recording mocks on the dev config. */
import { describe, expect, it } from "vitest";
import { devValues } from "../fixtures/configs";
import { RecordedResource, Recorder } from "../support/mocks";
import { runProgram } from "../support/program";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const istio = (r: Recorder, kind: string) =>
    r.resources.filter((x) => x.inputs.kind === kind && x.inputs.apiVersion?.includes("istio.io"));

describe("Istio 1.21.6 releases", () => {
    it("installs base and istiod from the official repository, pinned", async () => {
        const { recorder } = await runProgram(devValues());
        const releases: Record<string, any> = Object.fromEntries(
            recorder.ofType(RELEASE).map((r) => [r.inputs.chart, r.inputs]),
        );
        expect(Object.keys(releases).sort()).toEqual(["base", "istiod"]);
        for (const rel of Object.values(releases)) {
            expect(rel.version).toBe("1.21.6");
            expect(rel.repositoryOpts).toEqual({ repo: "https://istio-release.storage.googleapis.com/charts" });
        }
        expect(releases.base.namespace).toBe("istio-system");
        // CRDs as templates, so chart upgrades update them and a destroy removes them.
        expect(releases.base.values.base.enableCRDTemplates).toBe(true);
        expect(releases.base.skipCrds).toBe(true);
        expect(releases.istiod.namespace).toBe("istio-system");
        expect(releases.istiod.values.global.hub).toBe("docker.io/istio");
        expect(releases.istiod.values.global.tag).toBe("1.21.6");
        expect(releases.istiod.values.pilot.autoscaleEnabled).toBe(false);
        expect(releases.istiod.values.pilot.resources.requests).toEqual({ cpu: "500m", memory: "2048Mi" });
        // One replica by default, so no PodDisruptionBudget that would block node drains.
        expect(releases.istiod.values.global.defaultPodDisruptionBudget.enabled).toBe(false);
    });

    it("runs the ingress gateway as typed objects in its own namespace, injected by istiod", async () => {
        const { recorder } = await runProgram(devValues());
        const deploy = recorder.named("mesh-gateway-deployment");
        expect(deploy.inputs.metadata).toMatchObject({ name: "istio-ingressgateway", namespace: "istio-ingress" });
        const pod = deploy.inputs.spec.template;
        expect(pod.metadata.annotations["inject.istio.io/templates"]).toBe("gateway");
        expect(pod.metadata.labels["sidecar.istio.io/inject"]).toBe("true");
        expect(pod.spec.containers[0].image).toBe("auto");
        expect(deploy.dependencies).toContain(recorder.named("mesh-istiod").urn);
        const svc = recorder.named("mesh-gateway-service").inputs;
        expect(svc.spec.type).toBe("LoadBalancer");
        expect(svc.spec.ports.map((p: { port: number }) => p.port)).toEqual([15021, 80, 443]);
        expect(recorder.ofType("kubernetes:policy/v1:PodDisruptionBudget")).toHaveLength(0);
    });

    it("orders base -> istiod -> gateway", async () => {
        const { recorder } = await runProgram(devValues());
        const [base, istiod, gateway] = ["mesh-base", "mesh-istiod", "mesh-gateway-deployment"].map((n) =>
            recorder.named(n),
        );
        expect(istiod.dependencies).toContain(base.urn);
        expect(gateway.dependencies).toContain(istiod.urn);
    });

    it("takes charts from a local directory or an OCI mirror when configured", async () => {
        const local = devValues();
        local.mesh = { chartSource: { path: "/srv/istio/charts" } };
        const { recorder } = await runProgram(local);
        const charts = recorder
            .ofType(RELEASE)
            .map((r) => r.inputs.chart)
            .sort();
        expect(charts).toEqual(["/srv/istio/charts/base", "/srv/istio/charts/istio-control/istio-discovery"]);
        expect(recorder.ofType(RELEASE).every((r) => r.inputs.repositoryOpts === undefined)).toBe(true);

        const oci = devValues();
        oci.mesh = { chartSource: { repository: "oci://registry.example.internal/istio" } };
        const run = await runProgram(oci);
        expect(
            run.recorder
                .ofType(RELEASE)
                .map((r) => r.inputs.chart)
                .sort(),
        ).toEqual(["oci://registry.example.internal/istio/base", "oci://registry.example.internal/istio/istiod"]);
    });

    it("takes istiod and gateway sizing from config, with a PDB once there are two replicas", async () => {
        const v = devValues();
        v.mesh = { istiod: { replicas: 2, cpuRequest: "1", memoryRequest: "3Gi" }, gateway: { replicas: 3 } };
        const { recorder } = await runProgram(v);
        const istiod = recorder.named("mesh-istiod").inputs.values;
        expect(istiod.pilot.replicaCount).toBe(2);
        expect(istiod.global.defaultPodDisruptionBudget.enabled).toBe(true);
        expect(recorder.named("mesh-gateway-deployment").inputs.spec.replicas).toBe(3);
        const [pdb] = recorder.ofType("kubernetes:policy/v1:PodDisruptionBudget");
        expect(pdb.inputs.spec).toEqual({
            minAvailable: 1,
            selector: { matchLabels: { app: "istio-ingressgateway", istio: "ingressgateway" } },
        });
    });
});

describe("sidecar injection labels", () => {
    it("patches the built-in default namespace instead of creating it", async () => {
        const { recorder } = await runProgram(devValues());
        const patch = recorder.ofType("kubernetes:core/v1:NamespacePatch");
        expect(patch).toHaveLength(1);
        expect(patch[0].inputs.metadata.name).toBe("default");
        expect(patch[0].inputs.metadata.labels).toEqual({ "istio-injection": "enabled" });
        const created = recorder.ofType("kubernetes:core/v1:Namespace").map((n) => n.inputs.metadata.name);
        expect(created).not.toContain("default");
        expect(created.sort()).toEqual(["istio-ingress", "istio-system", "monitoring"]);
    });

    it("creates new namespaces with the label", async () => {
        const v = devValues();
        v.mesh = { namespaces: ["default", "shop"] };
        const { recorder } = await runProgram(v);
        const shop = recorder.ofType("kubernetes:core/v1:Namespace").find((n) => n.inputs.metadata.name === "shop");
        expect(shop?.inputs.metadata.labels).toEqual({ "istio-injection": "enabled" });
    });
});

describe("traffic and security policies (DESIGN.md seed values)", () => {
    it("makes mTLS STRICT mesh-wide and in each injected namespace", async () => {
        const { recorder } = await runProgram(devValues());
        const pas = istio(recorder, "PeerAuthentication").map((r) => r.inputs);
        expect(pas.map((p) => `${p.metadata.namespace}/${p.metadata.name}=${p.spec.mtls.mode}`).sort()).toEqual([
            "default/default=STRICT",
            "istio-system/default=STRICT",
        ]);
        expect(pas.every((p) => p.apiVersion === "security.istio.io/v1beta1")).toBe(true);
    });

    it("marks PERMISSIVE as a migration when mesh.mtls.migration acknowledges it", async () => {
        const v = devValues();
        v.mesh = { mtls: { mode: "PERMISSIVE", migration: true } };
        const { recorder } = await runProgram(v);
        const pas = istio(recorder, "PeerAuthentication").map((r) => r.inputs);
        expect(pas).toHaveLength(2);
        for (const pa of pas) {
            expect(pa.spec.mtls.mode).toBe("PERMISSIVE");
            expect(pa.metadata.annotations).toEqual({ "kvmesh.io/mtls-migration": "true" });
        }
    });

    it("gives payment-service its circuit breaker, field by field", async () => {
        const { recorder } = await runProgram(devValues());
        const dr = istio(recorder, "DestinationRule").find((r) => r.inputs.spec.host === "payment-service")!.inputs;
        expect(dr.apiVersion).toBe("networking.istio.io/v1beta1");
        expect(dr.metadata).toMatchObject({ name: "payment-service", namespace: "default" });
        expect(dr.spec.trafficPolicy).toEqual({
            connectionPool: {
                tcp: { maxConnections: 100 },
                http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 },
            },
            outlierDetection: {
                consecutive5xxErrors: 3,
                interval: "10s",
                baseEjectionTime: "30s",
                maxEjectionPercent: 100,
            },
        });
        expect(dr.spec.subsets).toBeUndefined();
    });

    it("routes my-app 90/10 to subsets that exist in its one DestinationRule", async () => {
        const { recorder } = await runProgram(devValues());
        const vs = istio(recorder, "VirtualService");
        expect(vs).toHaveLength(1);
        expect(vs[0].inputs.metadata.name).toBe("my-app-route");
        expect(vs[0].inputs.spec.hosts).toEqual(["my-app"]);
        const routes = vs[0].inputs.spec.http[0].route;
        expect(routes).toEqual([
            { destination: { host: "my-app", subset: "v1" }, weight: 90 },
            { destination: { host: "my-app", subset: "v2" }, weight: 10 },
        ]);
        const drs = istio(recorder, "DestinationRule").filter((r) => r.inputs.spec.host === "my-app");
        expect(drs).toHaveLength(1);
        const subsets = drs[0].inputs.spec.subsets.map((s: { name: string }) => s.name);
        for (const r of routes) expect(subsets).toContain(r.destination.subset);
        expect(drs[0].inputs.spec.trafficPolicy.outlierDetection).toBeDefined();
    });

    it("has exactly one DestinationRule per host", async () => {
        const { recorder } = await runProgram(devValues());
        const hosts = istio(recorder, "DestinationRule").map(
            (r) => `${r.inputs.metadata.namespace}/${r.inputs.spec.host}`,
        );
        expect(new Set(hosts).size).toBe(hosts.length);
        expect(hosts).toHaveLength(2);
    });

    it("puts the DestinationRule in place before the VirtualService routes to it", async () => {
        const { recorder } = await runProgram(devValues());
        const vs = istio(recorder, "VirtualService")[0];
        const dr = istio(recorder, "DestinationRule").find((r) => r.inputs.spec.host === "my-app")!;
        expect(vs.dependencies).toContain(dr.urn);
    });

    it("registers Istio objects after istiod (CRDs and validation in place)", async () => {
        const { recorder } = await runProgram(devValues());
        const istiod = recorder.named("mesh-istiod");
        for (const kind of ["PeerAuthentication", "DestinationRule", "VirtualService"]) {
            for (const obj of istio(recorder, kind)) expect(obj.dependencies, obj.name).toContain(istiod.urn);
        }
    });
});

describe("deletion", () => {
    const inCluster = (r: Recorder): RecordedResource[] =>
        r.resources.filter((x) => x.custom && x.type.startsWith("kubernetes:"));

    it("skips deleting in-cluster objects one by one when the cluster goes with the stack", async () => {
        const { recorder } = await runProgram(devValues());
        // The cluster's state is on the first server's data volume; a rebuilt VM keeps it.
        const anchor = recorder.named("cp-1-data").urn;
        const objects = inCluster(recorder);
        expect(objects.length).toBeGreaterThan(10);
        for (const obj of objects) expect(obj.deletedWith, obj.name).toBe(anchor);
    });

    it("deletes every object properly in existing mode", async () => {
        const { recorder } = await runProgram(
            { cluster: { mode: "existing" } },
            { kubeconfig: "apiVersion: v1\nkind: Config\n" },
        );
        for (const obj of inCluster(recorder)) expect(obj.deletedWith, obj.name).toBe("");
    });
});
