/**
 * The cluster's membership scripts (components/cluster/scripts/node-*.sh) against a real API
 * server: `k3s kubectl` is a shim for the test control plane's kubectl, and kwok's nodes and
 * pods stand in for joined machines.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { ROOT } from "../fixtures/configs";
import { ControlPlane, startControlPlane } from "../support/engine";
import { tempDir } from "../support/tools";

describe("node membership scripts against a real API server", { timeout: 5 * 60_000 }, () => {
    let cp: ControlPlane;
    let shim: string;

    const run = (script: string, env: Record<string, string>, bin = shim) => {
        const r = spawnSync("bash", [path.join(ROOT, "components", "cluster", "scripts", script)], {
            env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...env },
            encoding: "utf8",
        });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };

    beforeAll(() => {
        cp = startControlPlane("membership");
        shim = tempDir("k3s-shim");
        const kubectl = path.join(inject("toolBins").kube, "kubectl");
        fs.writeFileSync(
            path.join(shim, "k3s"),
            `#!/bin/sh\n[ "$1" = kubectl ] || exit 2\nshift\nexec ${kubectl} --kubeconfig ${cp.kubeconfig} "$@"\n`,
            { mode: 0o755 },
        );
    }, 3 * 60_000);

    afterAll(() => {
        cp?.stop();
        if (shim) fs.rmSync(shim, { recursive: true, force: true });
    });

    it("node-joined.sh returns once the node is Ready, and fails naming a node that never joined", () => {
        const joined = run("node-joined.sh", { NODE_NAME: "kwok-node-1" });
        expect(joined.status, joined.stderr).toBe(0);
        expect(joined.stdout).toMatch(/node\/kwok-node-1 condition met/);

        const missing = run("node-joined.sh", { NODE_NAME: "never-joined", READY_TIMEOUT_SECONDS: "3" });
        expect(missing.status).toBe(1);
        expect(missing.stderr).toMatch(/node never-joined did not register with the cluster in 3s/);
    });

    it("node-remove.sh drains the node and deletes it; run again, it finds nothing to do", () => {
        const pod = {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "on-leaving-node", namespace: "default" },
            spec: { nodeName: "kwok-node-1", containers: [{ name: "app", image: "registry.example/app:1.0" }] },
        };
        expect(cp.kubectl(["apply", "-f", "-"], JSON.stringify(pod)).status).toBe(0);

        const removed = run("node-remove.sh", { NODE_NAME: "kwok-node-1", DRAIN_TIMEOUT: "90s" });
        expect(removed.status, removed.stderr).toBe(0);
        expect(removed.stdout).toMatch(/node\/kwok-node-1 cordoned/);
        expect(removed.stdout).toMatch(/node\/kwok-node-1 drained/);
        expect(removed.stdout).toMatch(/node "kwok-node-1" deleted/);
        expect(cp.kubectl(["get", "node", "kwok-node-1"]).stderr).toMatch(/NotFound/);
        expect(cp.kubectl(["get", "pod", "on-leaving-node"]).stderr).toMatch(/NotFound/);
        // The other node is untouched.
        expect(cp.json(["get", "node", "kwok-node-0"]).spec.unschedulable).toBeUndefined();

        const again = run("node-remove.sh", { NODE_NAME: "kwok-node-1" });
        expect(again.status, again.stderr).toBe(0);
        expect(again.stdout).toMatch(/node kwok-node-1 is not in the cluster/);
    });

    it("node-remove.sh fails, removing nothing, while the API server does not answer", () => {
        const dead = tempDir("k3s-dead");
        fs.writeFileSync(path.join(dead, "k3s"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
        const r = run("node-remove.sh", { NODE_NAME: "kwok-node-0", API_WAIT_SECONDS: "2" }, dead);
        fs.rmSync(dead, { recursive: true, force: true });
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/not ready; kwok-node-0 was not removed/);
        expect(cp.kubectl(["get", "node", "kwok-node-0"]).status).toBe(0);
    });

    it("node-remove.sh has nothing to do where k3s is not installed", () => {
        const r = run("node-remove.sh", { NODE_NAME: "kwok-node-0" }, "/nonexistent");
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/k3s is not installed on this server/);
    });
});
