/**
 * The main job for real: `npm run preview`'s script against the embedded dev stack, with the
 * pinned CLI and plugins, offline, in a throwaway work directory. Also a broken config, which
 * the real engine must reject with the validation message before anything runs.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, devValues, seedServices } from "../fixtures/configs";
import { TestProject, previewJson, pulumiEnv } from "../support/engine";
import { runProgram } from "../support/program";
import { tempDir } from "../support/tools";

describe("the main job: pulumi preview of the dev stack", { timeout: 10 * 60_000 }, () => {
    const work = tempDir("main-job");
    let run: { status: number; stdout: string; stderr: string };
    let privateKey: string;

    beforeAll(() => {
        const r = spawnSync("bash", [path.join(ROOT, "scripts", "preview.sh"), "--json"], {
            cwd: ROOT,
            encoding: "utf8",
            env: {
                ...pulumiEnv(),
                KVMESH_WORKDIR: work,
                KVMESH_OFFLINE: "1",
                PULUMI_CONFIG_PASSPHRASE: "kvmesh-dev-only",
            },
            maxBuffer: 256 * 1024 * 1024,
        });
        run = { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
        privateKey = fs.readFileSync(path.join(work, "dev", "id_ed25519"), "utf8");
    }, 10 * 60_000);

    it("exits 0 with no error diagnostics", () => {
        expect(run.status, run.stderr.slice(-3000)).toBe(0);
        const preview = previewJson(run);
        expect((preview.diagnostics ?? []).filter((d: any) => d.severity === "error")).toEqual([]);
    });

    it("plans every resource the program declares, type by type (same counts as the mocks)", async () => {
        const preview = previewJson(run);
        const counts: Record<string, number> = {};
        for (const step of preview.steps) {
            const type = step.urn.split("::")[2].split("$").pop();
            if (type.startsWith("pulumi:providers:") || type === "pulumi:pulumi:Stack") continue;
            counts[type] = (counts[type] ?? 0) + 1;
            expect(step.op, step.urn).toBe("create");
        }
        const { recorder } = await runProgram(devValues());
        const expected = Object.fromEntries(
            Object.entries(recorder.countByType()).filter(([t]) => !t.startsWith("pulumi:providers:")),
        );
        expect(counts).toEqual(expected);
        // The numbers a reviewer sees, for the record:
        expect(counts["command:remote:Command"]).toBe(27);
        expect(counts["kubernetes:helm.sh/v3:Release"]).toBe(2);
        expect(counts["kubernetes:security.istio.io/v1beta1:PeerAuthentication"]).toBe(2);
        expect(counts["kubernetes:networking.istio.io/v1beta1:DestinationRule"]).toBe(2);
        expect(counts["kubernetes:networking.istio.io/v1beta1:VirtualService"]).toBe(1);
    });

    it("shows no private key in its output or in the stack's files", () => {
        const keyBody = privateKey.split("\n").filter((l) => l && !l.startsWith("-----"))[0];
        expect(keyBody.length).toBeGreaterThan(20);
        expect(run.stdout).not.toContain(keyBody);
        expect(run.stderr).not.toContain(keyBody);
        expect(run.stdout).not.toMatch(/BEGIN OPENSSH PRIVATE KEY/);
        const files: string[] = [];
        const walk = (dir: string) => {
            for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
                const p = path.join(dir, e.name);
                if (e.isDirectory()) walk(p);
                else if (!p.endsWith("id_ed25519")) files.push(p);
            }
        };
        walk(path.join(work, "backend"));
        expect(files.length).toBeGreaterThan(0);
        for (const file of [...files, path.join(work, "Pulumi.dev.effective.yaml")]) {
            expect(fs.readFileSync(file, "latin1").includes(keyBody), file).toBe(false);
        }
    });
});

describe("a broken config in the real engine", { timeout: 5 * 60_000 }, () => {
    it("fails the preview with the validation message (canary weights 80+10)", () => {
        const project = new TestProject("broken");
        try {
            project.ok(["stack", "init", "broken"]);
            const doc = parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"));
            const config = doc.config;
            config["kvmesh:ssh"] = {
                user: "ubuntu",
                publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForKvmeshUnitTestsOnly0000000000000 test",
            };
            config["kvmesh:mesh"] = {
                services: seedServices([80, 10]),
            };
            const file = path.join(project.dir, "Pulumi.broken.yaml");
            const existing = parse(fs.readFileSync(file, "utf8")) ?? {};
            fs.writeFileSync(file, stringify({ ...existing, config }));
            project.ok(["config", "set", "--secret", "kvmesh:sshPrivateKey", "--stack", "broken"], {
                input: "not-a-real-key",
            });
            const r = project.pulumi(["preview", "--stack", "broken"]);
            expect(r.status).not.toBe(0);
            expect(r.stdout + r.stderr).toContain(
                "kvmesh:mesh.services[1].canary.routes: weights 80+10 sum to 90; they must sum to exactly 100",
            );
            expect(r.stdout + r.stderr).toContain("nothing was created");
            // The program stopped before registering anything but the stack itself.
            expect(r.stdout).not.toMatch(/command:remote:Command|helm\.sh/);
        } finally {
            project.remove();
        }
    });
});
