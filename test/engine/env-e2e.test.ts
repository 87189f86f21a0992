/**
 * Ephemeral environments for real: the kvmesh CLI (a subprocess, as users and CI run it) on the
 * Automation API, the real engine, and a real API server in `existing` mode. Proves env up from
 * a template, list with age and expiry, a concurrent run refused by the stack lock, gc of an
 * expired environment, down of a missing one as a no-op, and nothing left in the API or backend.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../fixtures/configs";
import { localPathVolumes } from "../fixtures/kube";
import { ControlPlane, TestProject, startControlPlane } from "../support/engine";

const CLI = [
    "-r",
    path.join(ROOT, "node_modules", "ts-node", "register", "transpile-only"),
    path.join(ROOT, "cli", "main.ts"),
];

describe("kvmesh env against a real API server", { timeout: 20 * 60_000 }, () => {
    let cp: ControlPlane;
    let project: TestProject;
    let env: NodeJS.ProcessEnv;
    const kvmesh = (args: string[]) => {
        const r = spawnSync("node", [...CLI, ...args], {
            cwd: ROOT,
            env,
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
        });
        return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    };

    beforeAll(() => {
        cp = startControlPlane("env-e2e");
        const pvs = cp.kubectl(["apply", "-f", "-"], localPathVolumes("env-pv", 3));
        expect(pvs.status, pvs.stderr).toBe(0);
        project = new TestProject("env-e2e");
        project.ok(["stack", "init", "template"]);
        const charts = spawnSync("bash", [path.join(ROOT, "tools", "istio", "charts-dir.sh")], {
            encoding: "utf8",
        }).stdout.trim();
        project.configure(
            "template",
            { cluster: { mode: "existing" }, mesh: { chartSource: { path: charts } } },
            { kubeconfig: fs.readFileSync(cp.kubeconfig, "utf8") },
        );
        env = { ...project.env, KVMESH_PROJECT_DIR: project.dir };
    }, 5 * 60_000);

    afterAll(() => {
        cp?.stop();
        project?.remove();
    });

    it("env up creates an environment from the template, deploys it, and reports JSON", () => {
        const r = kvmesh(["env", "up", "pr-7", "--from", "template", "--ttl", "2h", "--json"]);
        expect(r.status, r.stderr.slice(-3000)).toBe(0);
        const info = JSON.parse(r.stdout);
        expect(info).toMatchObject({ name: "pr-7", template: "template", expired: false });
        expect(info.expiresInMs).toBeGreaterThan(119 * 60_000);
        // Pulumi's own progress went to stderr while stdout carried the JSON.
        expect(r.stderr).toMatch(/Updating \(pr-7\)|updating/i);
        expect(
            cp.json(["get", "virtualservices.networking.istio.io", "-n", "default", "my-app-route"]).spec.http[0].route,
        ).toHaveLength(2);
        // The copied config keeps the kubeconfig secret.
        expect(fs.readFileSync(path.join(project.dir, "Pulumi.pr-7.yaml"), "utf8")).toMatch(
            /kvmesh:kubeconfig:\s*\n\s*secure:/,
        );
    });

    it("env list shows it with its age and expiry", () => {
        const r = kvmesh(["env", "list", "--json"]);
        expect(r.status, r.stderr).toBe(0);
        const envs = JSON.parse(r.stdout);
        expect(envs.map((e: any) => e.name)).toEqual(["pr-7"]);
        expect(envs[0].ageMs).toBeGreaterThanOrEqual(0);
        expect(envs[0].resources).toBeGreaterThan(20);
        const text = kvmesh(["env", "list"]);
        // Created with --ttl 2h moments ago (minutes on a loaded machine): "in 2h" or "in 1h NNm".
        expect(text.stdout).toMatch(
            new RegExp(
                `^NAME\tTEMPLATE\tAGE\tEXPIRES\tRESOURCES\npr-7\ttemplate\t[^\t]+\tin (2h|1h [1-5]?\\dm)\t${envs[0].resources}\n$`,
            ),
        );
    });

    it("refuses a second concurrent run on the same environment (the stack lock)", async () => {
        const first = spawn("node", [...CLI, "env", "up", "pr-7", "--from", "template", "--ttl", "2h"], {
            cwd: ROOT,
            env,
        });
        const firstDone = new Promise<number>((resolve) => first.on("exit", (code) => resolve(code ?? -1)));
        // Wait until the first run holds the lock (its update has started), then try again.
        await new Promise<void>((resolve) =>
            first.stdout.on("data", (d: Buffer) => (/Updating|Previewing/.test(d.toString()) ? resolve() : undefined)),
        );
        const second = kvmesh(["env", "up", "pr-7", "--from", "template", "--ttl", "2h"]);
        expect(await firstDone).toBe(0);
        expect(second.status).not.toBe(0);
        expect(second.stderr).toMatch(/environment 'pr-7' is (being changed by another run|locked by another run)/);
    });

    it("env gc destroys an environment whose TTL has passed and removes its stack and config", async () => {
        expect(kvmesh(["env", "prepare", "pr-7", "--from", "template", "--ttl", "1s"]).status).toBe(0);
        await new Promise((r) => setTimeout(r, 1_500));
        const r = kvmesh(["env", "gc", "--json"]);
        expect(r.status, r.stderr.slice(-3000)).toBe(0);
        expect(JSON.parse(r.stdout)).toEqual({ destroyed: ["pr-7"], failed: [], kept: [] });
        expect(fs.existsSync(path.join(project.dir, "Pulumi.pr-7.yaml"))).toBe(false);
        const stacks = JSON.parse(project.pulumi(["stack", "ls", "--json"]).stdout).map((s: any) => s.name);
        expect(stacks).toEqual(["template"]);
        // Nothing of the environment is left in the API.
        for (const kind of [
            "peerauthentications.security.istio.io",
            "destinationrules.networking.istio.io",
            "virtualservices.networking.istio.io",
        ]) {
            expect(cp.json(["get", kind, "-A"]).items, kind).toEqual([]);
        }
        expect(cp.json(["get", "namespace", "default"]).metadata.labels?.["istio-injection"]).toBeUndefined();
        for (const ns of ["istio-system", "istio-ingress", "monitoring"]) {
            const phase = cp.kubectl(["get", "namespace", ns, "-o", "jsonpath={.status.phase}"]);
            expect(phase.status !== 0 || phase.stdout === "Terminating", ns).toBe(true);
        }
    });

    it("env down of a missing environment is a clear no-op, and an unknown template is a clear error", () => {
        const down = kvmesh(["env", "down", "pr-7", "--json"]);
        expect(down.status).toBe(0);
        expect(JSON.parse(down.stdout)).toEqual({ name: "pr-7", existed: false, attempts: 0 });
        expect(down.stderr).toMatch(/environment pr-7 does not exist; nothing to do/);
        const bad = kvmesh(["env", "up", "pr-8", "--from", "nope"]);
        expect(bad.status).toBe(1);
        expect(bad.stderr).toMatch(/template stack 'nope' does not exist/);
    });
});
