/**
 * The whole provisioned dev stack through the real engine: nodes and k3s steps with SSH
 * simulated (they are recorded, not executed), the Kubernetes layer applied to a real API
 * server. Proves the ordering of the node and cluster steps, that a changed disk size rebuilds
 * exactly that VM and redoes k3s on it, that a node taken out is drained before its VM goes,
 * and that destroy deletes every VM and volume (no drains: the cluster goes whole) while
 * leaving in-cluster objects to go with the cluster (deletedWith) instead of one by one.
 */
import { execFileSync } from "child_process";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { ROOT } from "../fixtures/configs";
import { pulumiEnv, previewJson } from "../support/engine";
import { FullStack } from "../support/fullstack";

const nameOf = (urn: string) => urn.split("::").pop()!;

describe("the provisioned dev stack, hosts simulated, Kubernetes real", { timeout: 20 * 60_000 }, () => {
    let stack: FullStack;

    beforeAll(() => {
        const bins = inject("toolBins");
        stack = new FullStack({ kubeBin: bins.kube, kwokBin: bins["kube-kwok"], pulumiEnv: pulumiEnv() });
        stack.init(
            execFileSync("bash", [path.join(ROOT, "tools", "istio", "charts-dir.sh")], { encoding: "utf8" }).trim(),
        );
    }, 5 * 60_000);

    afterAll(() => stack?.dispose());

    it("pulumi up runs the node and cluster steps in order, then the mesh on the cluster", () => {
        stack.ok(["up", "--yes", "--skip-preview"]);
        const log = stack.takeHostLog();
        const at = (resource: string) => {
            const i = log.findIndex((l) => nameOf(l.urn) === resource && l.which === "create");
            expect(i, `${resource} ran`).toBeGreaterThanOrEqual(0);
            return i;
        };
        for (const node of ["cp-1", "worker-1", "worker-2"]) {
            expect(at(`${node}-root`)).toBeGreaterThan(at("kvm-1-base-image"));
            for (const part of ["root", "data", "seed"])
                expect(at(`${node}-domain`)).toBeGreaterThan(at(`${node}-${part}`));
            expect(at(`${node}-ready`)).toBeGreaterThan(at(`${node}-domain`));
            expect(at(`cluster-${node}-firewall`)).toBeGreaterThan(at(`${node}-ready`));
            expect(at(`cluster-${node}-k3s`)).toBeGreaterThan(at(`cluster-${node}-firewall`));
        }
        expect(at("cluster-credentials")).toBeGreaterThan(at("cluster-cp-1-k3s"));
        for (const agent of ["worker-1", "worker-2"]) {
            expect(at(`cluster-${agent}-token`)).toBeGreaterThan(at("cluster-credentials"));
            expect(at(`cluster-${agent}-k3s`)).toBeGreaterThan(at(`cluster-${agent}-token`));
            // Checked in as Ready from the first server once joined.
            expect(at(`cluster-${agent}-member`)).toBeGreaterThan(at(`cluster-${agent}-k3s`));
        }
        expect(log.find((l) => l.script === "k3s-install.sh")?.which).toBe("create");
        // The Kubernetes layer reached the cluster through the kubeconfig the first server gave.
        expect(
            JSON.parse(stack.kubectl(["get", "deployment", "-n", "istio-system", "istiod", "-o", "json"]).stdout).status
                .readyReplicas,
        ).toBe(1);
    });

    it("a second run changes nothing", () => {
        stack.ok(["preview", "--expect-no-changes"]);
    });

    it("a bigger root disk on worker-1 rebuilds that VM only, and redoes its cluster steps", () => {
        stack.configure((c) => (c["kvmesh:nodes"][1].diskGiB = 40));
        const preview = previewJson(stack.ok(["preview", "--json"]));
        const changed = preview.steps.filter((s: any) => s.op !== "same").map((s: any) => `${s.op} ${nameOf(s.urn)}`);
        const replaced = [
            ...new Set(
                changed
                    .filter((c: string) => /^(replace|create-replacement|delete-replaced)/.test(c))
                    .map((c: string) => c.split(" ")[1]),
            ),
        ].sort();
        expect(replaced).toEqual([
            "cluster-worker-1-firewall",
            "cluster-worker-1-k3s",
            "cluster-worker-1-token",
            "worker-1-domain",
            "worker-1-ready",
            "worker-1-root",
        ]);
        expect(changed.filter((c: string) => !/worker-1/.test(c))).toEqual([]);

        stack.ok(["up", "--yes", "--skip-preview"]);
        const log = stack.takeHostLog().map((l) => `${l.which} ${nameOf(l.urn)}`);
        // Delete before replace: the old VM goes before its disk, the new disk before the new VM.
        expect(log.indexOf("delete worker-1-domain")).toBeLessThan(log.indexOf("delete worker-1-root"));
        expect(log.indexOf("delete worker-1-root")).toBeLessThan(log.indexOf("create worker-1-root"));
        expect(log.indexOf("create worker-1-root")).toBeLessThan(log.indexOf("create worker-1-domain"));
        expect(log.indexOf("create cluster-worker-1-k3s")).toBeGreaterThan(log.indexOf("create worker-1-ready"));
        expect(log.filter((l) => /worker-1-data|cp-1|worker-2/.test(l))).toEqual([]);
        stack.ok(["preview", "--expect-no-changes"]);
    });

    it("rebuilding the first server keeps the cluster: credentials not re-read, no in-cluster object replaced", () => {
        stack.configure((c) => {
            c["kvmesh:nodes"][1].diskGiB = 40;
            c["kvmesh:nodes"][0].memoryMiB = 8192;
        });
        const preview = previewJson(stack.ok(["preview", "--json"]));
        const changed = preview.steps.filter((s: any) => s.op !== "same").map((s: any) => nameOf(s.urn));
        expect([...new Set(changed)].sort()).toEqual([
            "cluster-cp-1-firewall",
            "cluster-cp-1-k3s",
            "cp-1-domain",
            "cp-1-ready",
        ]);
        stack.ok(["up", "--yes", "--skip-preview"]);
        const log = stack.takeHostLog().map((l) => `${l.which} ${nameOf(l.urn)}`);
        expect(log).toContain("create cluster-cp-1-k3s");
        expect(log).not.toContain("create cluster-credentials");
    });

    it("taking worker-2 out of the config drains it on the first server, then deletes its machine", () => {
        stack.configure((c) => c["kvmesh:nodes"].splice(2, 1));
        const preview = previewJson(stack.ok(["preview", "--json"]));
        const deleted = preview.steps
            .filter((s: any) => s.op === "delete")
            .map((s: any) => nameOf(s.urn))
            .sort();
        expect(deleted).toEqual(
            ["member", "firewall", "k3s", "token"]
                .map((step) => `cluster-worker-2-${step}`)
                .concat(["data", "domain", "ready", "root", "seed"].map((part) => `worker-2-${part}`))
                .concat(["worker-2"]) // its component
                .sort(),
        );
        stack.ok(["up", "--yes", "--skip-preview"]);
        const log = stack.takeHostLog();
        const removal = log.findIndex((l) => l.which === "delete" && l.script === "node-remove.sh");
        expect(nameOf(log[removal].urn)).toBe("cluster-worker-2-member");
        const vmGone = log.findIndex((l) => l.which === "delete" && nameOf(l.urn) === "worker-2-domain");
        expect(removal).toBeLessThan(vmGone);
        stack.ok(["preview", "--expect-no-changes"]);
    });

    it("destroy deletes every VM and volume, and leaves in-cluster objects to go with the cluster", () => {
        stack.ok(["destroy", "--yes", "--skip-preview"]);
        const log = stack.takeHostLog();
        const deletes = log
            .filter((l) => l.which === "delete")
            .map((l) => nameOf(l.urn))
            .sort();
        expect(deletes).toEqual(
            ["cp-1", "worker-1"]
                .flatMap((n) => [`${n}-data`, `${n}-domain`, `${n}-root`, `${n}-seed`])
                .concat(["kvm-1-base-image"])
                .sort(),
        );
        // Nothing was deleted one by one inside the cluster: with the machines gone, it is gone.
        expect(stack.kubectl(["get", "deployment", "-n", "istio-system", "istiod"]).status).toBe(0);
        stack.ok(["stack", "rm", "--yes"]);
    });
});
