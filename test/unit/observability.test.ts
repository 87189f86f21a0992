/** Prometheus and Grafana under recording mocks on the dev config. */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { devValues } from "../fixtures/configs";
import { isSecretInput, promiseOf } from "../support/mocks";
import { runProgram } from "../support/program";

describe("Prometheus", () => {
    it("runs a pinned image as a StatefulSet whose PVC uses the NVMe-backed local-path class", async () => {
        const { recorder } = await runProgram(devValues());
        const [sts] = recorder.ofType("kubernetes:apps/v1:StatefulSet");
        const container = sts.inputs.spec.template.spec.containers[0];
        expect(container.image).toMatch(/^quay\.io\/prometheus\/prometheus:v\d+\.\d+\.\d+$/);
        expect(container.args).toContain("--storage.tsdb.retention.time=15d");
        const pvc = sts.inputs.spec.volumeClaimTemplates[0].spec;
        expect(pvc.storageClassName).toBe("local-path");
        expect(pvc.resources.requests.storage).toBe("20Gi");
        expect(sts.inputs.spec.template.metadata.annotations["sidecar.istio.io/inject"]).toBe("false");
    });

    it("takes retention and volume size from config", async () => {
        const v = devValues();
        v.observability = { prometheus: { retention: "30d", storageGiB: 100 } };
        const { recorder } = await runProgram(v);
        const [sts] = recorder.ofType("kubernetes:apps/v1:StatefulSet");
        expect(sts.inputs.spec.template.spec.containers[0].args).toContain("--storage.tsdb.retention.time=30d");
        expect(sts.inputs.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("100Gi");
    });

    it("can discover targets cluster-wide (RBAC) and is reachable through a Service", async () => {
        const { recorder } = await runProgram(devValues());
        const [role] = recorder.ofType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole");
        expect(role.inputs.rules[0].resources).toEqual(expect.arrayContaining(["pods", "endpoints", "services"]));
        expect(role.inputs.rules[0].verbs).toEqual(["get", "list", "watch"]);
        const services = recorder
            .ofType("kubernetes:core/v1:Service")
            .filter((s) => s.inputs.metadata.namespace === "monitoring");
        expect(services.map((s) => s.inputs.metadata.name).sort()).toEqual(["grafana", "prometheus"]);
    });
});

describe("Grafana", () => {
    it("keeps the admin password a secret and never a default", async () => {
        const { recorder, program } = await runProgram(devValues());
        const secret = recorder
            .ofType("kubernetes:core/v1:Secret")
            .find((s) => s.inputs.metadata.name === "grafana-admin")!;
        expect(isSecretInput(secret.inputs.stringData)).toBe(true);
        expect(await pulumi.isSecret(program.grafanaAdminPassword!)).toBe(true);
        const password = await promiseOf(program.grafanaAdminPassword!);
        expect(password).toHaveLength(24);
        expect(password).not.toBe("admin");
    });

    it("uses the configured password when one is set", async () => {
        const { program } = await runProgram(devValues(), {
            sshPrivateKey: "fake-private-key-for-unit-tests",
            grafanaAdminPassword: "correct-horse-battery-staple",
        });
        expect(await promiseOf(program.grafanaAdminPassword!)).toBe("correct-horse-battery-staple");
    });

    it("provisions the Prometheus datasource and kvmesh's dashboards from ConfigMaps", async () => {
        const { recorder } = await runProgram(devValues());
        const maps = Object.fromEntries(
            recorder.ofType("kubernetes:core/v1:ConfigMap").map((m) => [m.inputs.metadata.name, m.inputs.data]),
        );
        expect(maps["grafana-provisioning"]["datasources.yaml"]).toContain(
            "url: http://prometheus.monitoring.svc:9090",
        );
        expect(Object.keys(maps["grafana-dashboards"]).sort()).toEqual([
            "kvmesh-hops.json",
            "kvmesh-mesh.json",
            "kvmesh-service.json",
            "kvmesh-workload.json",
        ]);
        const deploy = recorder.named("observability-grafana", "kubernetes:apps/v1:Deployment");
        expect(deploy.inputs.spec.template.spec.containers[0].image).toMatch(
            /^docker\.io\/grafana\/grafana:\d+\.\d+\.\d+$/,
        );
    });

    it("tells users how to reach both UIs", async () => {
        const { program } = await runProgram(devValues());
        const access = program.access;
        expect(access.prometheus).toContain("port-forward svc/prometheus 9090:9090");
        expect(access.grafana).toContain("port-forward svc/grafana 3000:3000");
    });
});
