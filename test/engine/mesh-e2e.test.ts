/**
 * The Kubernetes layer for real: an `existing`-mode stack against a real kube-apiserver
 * (tools/control-plane: etcd, apiserver, controller-manager, scheduler, kwok for fake nodes),
 * with the real Pulumi CLI and plugins and Istio's charts from the Go module cache.
 * Proves: up, read-back, idempotence (also after istiod's webhook flip), a targeted update,
 * no secret in the state, and a destroy that leaves nothing behind.
 * Cannot prove: a data plane (kwok pods never run, so no sidecar, no mTLS handshake) or VMs.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, seedServices } from "../fixtures/configs";
import { localPathVolumes } from "../fixtures/kube";
import { ControlPlane, TestProject, previewJson, startControlPlane } from "../support/engine";

const STACK = "e2e";
/** The seed services, optionally with another canary split and payment-service's breaker tightened. */
const services = (over: { weights?: [number, number]; paymentErrors?: number } = {}) => {
    const list = seedServices(over.weights);
    if (over.paymentErrors) list[0].circuitBreaker = { consecutive5xxErrors: over.paymentErrors };
    return list;
};

describe("mesh layer against a real API server", { timeout: 20 * 60_000 }, () => {
    let cp: ControlPlane;
    let project: TestProject;
    let kubeconfigText: string;
    let charts: string;
    const meshConfig = (services: unknown) => ({
        chartSource: { path: charts },
        namespaces: ["default", "shop"],
        services,
    });

    beforeAll(() => {
        cp = startControlPlane("mesh-e2e");
        kubeconfigText = fs.readFileSync(cp.kubeconfig, "utf8");
        const pvs = cp.kubectl(["apply", "-f", "-"], localPathVolumes("e2e-local-path", 2));
        expect(pvs.status, pvs.stderr).toBe(0);

        project = new TestProject("mesh-e2e");
        project.ok(["stack", "init", STACK]);
        charts = execFileSync("bash", [path.join(ROOT, "tools", "istio", "charts-dir.sh")], {
            encoding: "utf8",
        }).trim();
        project.configure(
            STACK,
            { cluster: { mode: "existing" }, mesh: meshConfig(services()) },
            { kubeconfig: kubeconfigText },
        );
    }, 10 * 60_000);

    afterAll(() => {
        cp?.stop();
        project?.remove();
    });

    it("pulumi up creates the mesh, and the API holds exactly what the config says", () => {
        project.ok(["up", "--stack", STACK, "--yes", "--skip-preview"]);

        const ns = (name: string) => cp.json(["get", "namespace", name]);
        expect(ns("default").metadata.labels["istio-injection"]).toBe("enabled");
        expect(ns("shop").metadata.labels["istio-injection"]).toBe("enabled");

        const pas = cp.json(["get", "peerauthentications.security.istio.io", "-A"]).items;
        expect(pas.map((p: any) => `${p.metadata.namespace}/${p.metadata.name}=${p.spec.mtls.mode}`).sort()).toEqual([
            "default/default=STRICT",
            "istio-system/default=STRICT",
            "shop/default=STRICT",
        ]);

        const dr = cp.json(["get", "destinationrules.networking.istio.io", "-n", "default", "payment-service"]);
        expect(dr.spec.trafficPolicy.connectionPool).toEqual({
            tcp: { maxConnections: 100 },
            http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 },
        });
        expect(dr.spec.trafficPolicy.outlierDetection).toEqual({
            consecutive5xxErrors: 3,
            interval: "10s",
            baseEjectionTime: "30s",
            maxEjectionPercent: 100,
        });
        const appDr = cp.json(["get", "destinationrules.networking.istio.io", "-n", "default", "my-app"]);
        expect(appDr.spec.subsets.map((s: any) => s.name)).toEqual(["v1", "v2"]);

        const vs = cp.json(["get", "virtualservices.networking.istio.io", "-n", "default", "my-app-route"]);
        expect(vs.spec.http[0].route.map((r: any) => [r.destination.subset, r.weight])).toEqual([
            ["v1", 90],
            ["v2", 10],
        ]);

        const istiod = cp.json(["get", "deployment", "-n", "istio-system", "istiod"]);
        expect(istiod.spec.template.spec.containers[0].image).toBe("docker.io/istio/pilot:1.21.6");
        expect(cp.json(["get", "statefulset", "-n", "monitoring", "prometheus"]).status.readyReplicas).toBe(1);
        expect(cp.json(["get", "deployment", "-n", "istio-ingress", "istio-ingressgateway"]).status.readyReplicas).toBe(
            1,
        );
    });

    it("an immediate preview shows no changes, also after istiod flips its webhooks to Fail", () => {
        project.ok(["preview", "--stack", STACK, "--expect-no-changes"]);
        // istiod patches failurePolicy once it serves; kwok never runs it, so do what it does.
        const webhook = cp.json(["get", "validatingwebhookconfiguration", "istiod-default-validator"]);
        const patch = webhook.webhooks.map((_: unknown, i: number) => ({
            op: "replace",
            path: `/webhooks/${i}/failurePolicy`,
            value: "Fail",
        }));
        expect(
            cp.kubectl([
                "patch",
                "validatingwebhookconfiguration",
                "istiod-default-validator",
                "--type",
                "json",
                "-p",
                JSON.stringify(patch),
            ]).status,
        ).toBe(0);
        project.ok(["preview", "--stack", STACK, "--expect-no-changes"]);
        project.ok(["up", "--stack", STACK, "--yes", "--expect-no-changes", "--skip-preview"]);
    });

    it("a 50/50 canary and consecutive5xxErrors 5 preview as exactly those updates, and up applies them", () => {
        project.configure(STACK, { mesh: meshConfig(services({ weights: [50, 50], paymentErrors: 5 })) });
        const preview = previewJson(project.ok(["preview", "--stack", STACK, "--json"]));
        const changed = preview.steps.filter((s: any) => s.op !== "same");
        expect(changed.map((s: any) => `${s.op} ${s.urn.split("::").pop()}`).sort()).toEqual([
            "update mesh-dr-default-payment-service",
            "update mesh-vs-default-my-app-route",
        ]);
        project.ok(["up", "--stack", STACK, "--yes", "--skip-preview"]);
        const vs = cp.json(["get", "virtualservices.networking.istio.io", "-n", "default", "my-app-route"]);
        expect(vs.spec.http[0].route.map((r: any) => r.weight)).toEqual([50, 50]);
        const dr = cp.json(["get", "destinationrules.networking.istio.io", "-n", "default", "payment-service"]);
        expect(dr.spec.trafficPolicy.outlierDetection.consecutive5xxErrors).toBe(5);
    });

    it("keeps the kubeconfig out of the state in plaintext", () => {
        const exported = project.ok(["stack", "export", "--stack", STACK]).stdout;
        const kc = parse(kubeconfigText);
        const clientKey: string = kc.users[0].user["client-key-data"];
        expect(clientKey.length).toBeGreaterThan(20);
        expect(exported).not.toContain(clientKey);
        expect(exported).not.toContain(kubeconfigText.slice(0, 200));
        for (const { file, text } of project.allFiles()) {
            expect(text.includes(clientKey), file).toBe(false);
        }
    });

    it("pulumi destroy leaves no kvmesh object; default stays, without the label", () => {
        project.ok(["destroy", "--stack", STACK, "--yes", "--skip-preview"]);
        // Namespaces finish terminating through the namespace controller.
        const deadline = Date.now() + 120_000;
        const remaining = () =>
            ["istio-system", "istio-ingress", "monitoring", "shop"].filter(
                (n) => cp.kubectl(["get", "namespace", n]).status === 0,
            );
        while (remaining().length > 0 && Date.now() < deadline) execFileSync("sleep", ["2"]);
        expect(remaining()).toEqual([]);

        const def = cp.json(["get", "namespace", "default"]);
        expect(def.metadata.labels?.["istio-injection"]).toBeUndefined();
        // Istio marks its CRDs helm.sh/resource-policy: keep, so Helm leaves them (and other
        // teams' Istio objects) alone on uninstall; no instance of kvmesh's remains.
        const crds = cp.json(["get", "crd"]).items.filter((c: any) => c.spec.group.endsWith("istio.io"));
        for (const crd of crds)
            expect(crd.metadata.annotations?.["helm.sh/resource-policy"], crd.metadata.name).toBe("keep");
        for (const kind of [
            "peerauthentications.security.istio.io",
            "destinationrules.networking.istio.io",
            "virtualservices.networking.istio.io",
        ]) {
            expect(cp.json(["get", kind, "-A"]).items, kind).toEqual([]);
        }
        for (const kind of [
            "clusterrole",
            "clusterrolebinding",
            "mutatingwebhookconfiguration",
            "validatingwebhookconfiguration",
        ]) {
            const names = cp.kubectl(["get", kind, "-o", "name"]).stdout;
            expect(names, kind).not.toMatch(/istio|kvmesh/);
        }
    });

    it("installs again on the same cluster after a destroy (Helm adopts the kept CRDs), then cleans up", () => {
        project.ok(["up", "--stack", STACK, "--yes", "--skip-preview"]);
        expect(
            cp.json(["get", "virtualservices.networking.istio.io", "-n", "default", "my-app-route"]).spec.http[0].route,
        ).toHaveLength(2);
        project.ok(["destroy", "--stack", STACK, "--yes", "--skip-preview"]);
        project.ok(["stack", "rm", STACK, "--yes"]);
        expect(project.pulumi(["stack", "ls", "--json"]).stdout.trim()).toBe("[]");
    });
});
