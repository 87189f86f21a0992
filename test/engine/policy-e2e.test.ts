/**
 * The policy pack in real previews: the dev stack passes it; another team's program that
 * declares a PERMISSIVE PeerAuthentication, an 80+10 VirtualService and a Secret from plaintext
 * config fails, naming each policy. The engine's policy events are also what the reviewer's
 * summary reads.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { findRisks } from "../../cli/preview-summary";
import { ROOT } from "../fixtures/configs";
import { pulumiEnv } from "../support/engine";
import { tempDir } from "../support/tools";

const POLICY = path.join(ROOT, "policy");

describe("pulumi preview --policy-pack policy", { timeout: 10 * 60_000 }, () => {
    it("passes the dev stack", () => {
        const work = tempDir("policy-dev");
        const r = spawnSync("bash", [path.join(ROOT, "scripts", "preview.sh"), "--policy-pack", POLICY], {
            cwd: ROOT,
            encoding: "utf8",
            env: { ...pulumiEnv(), KVMESH_WORKDIR: work, KVMESH_OFFLINE: "1" },
            maxBuffer: 256 * 1024 * 1024,
        });
        expect(r.status, (r.stdout + r.stderr).slice(-4000)).toBe(0);
        expect(r.stdout).toMatch(/Policy Packs run:\s*\n\s*Name\s+Version\s*\n\s*kvmesh\|local\|\S*policy\s+0\.1\.0/);
        expect(r.stdout).not.toMatch(/\[(mandatory|advisory)\]/);
    });

    it("fails another team's program, naming the mTLS, canary and secret policies", () => {
        const dir = tempDir("other-team");
        for (const f of ["Pulumi.yaml", "package.json", "index.ts"])
            fs.copyFileSync(path.join(ROOT, "test", "engine", "fixtures", "other-team", f), path.join(dir, f));
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
        fs.copyFileSync(path.join(ROOT, "tsconfig.json"), path.join(dir, "tsconfig.json"));
        const env = {
            ...pulumiEnv(),
            PULUMI_BACKEND_URL: `file://${tempDir("other-team-state")}`,
            PULUMI_CONFIG_PASSPHRASE: "test-only",
        };
        const pulumi = (args: string[], input?: string) =>
            spawnSync("pulumi", [...args, "--non-interactive"], {
                cwd: dir,
                env,
                encoding: "utf8",
                input,
                maxBuffer: 64 * 1024 * 1024,
            });
        for (const [args, input] of [
            [["stack", "init", "shop"]],
            [["config", "set", "--plaintext", "dbPassword", "typed-in-plaintext"]],
            [["config", "set", "--secret", "apiKey"], "kept-as-a-secret"],
        ] as [string[], string?][]) {
            const step = pulumi(args, input);
            expect(step.status, `pulumi ${args.join(" ")}: ${step.stderr}`).toBe(0);
        }

        const events = path.join(dir, "events.jsonl");
        const r = spawnSync(
            "pulumi",
            ["preview", "--non-interactive", "--policy-pack", POLICY, "--event-log", events],
            // --event-log is one of the CLI's debug flags.
            { cwd: dir, env: { ...env, PULUMI_DEBUG_COMMANDS: "true" }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
        );
        const out = r.stdout + r.stderr;
        expect(r.status, out.slice(-4000)).not.toBe(0);
        expect(out).toMatch(
            /\[mandatory\]\s+kvmesh-mtls-strict\s+\(kubernetes:security\.istio\.io\/v1beta1:PeerAuthentication: permissive\)/,
        );
        expect(out).toMatch(/spec\.mtls\.mode is PERMISSIVE; set it to STRICT/);
        expect(out).toMatch(/\[mandatory\]\s+kvmesh-canary-routes/);
        expect(out).toMatch(/weights 80\+10 sum to 90, not 100/);
        expect(out).toMatch(/\[mandatory\]\s+kvmesh-secret-data-is-secret\s+\(kubernetes:core\/v1:Secret: db\)/);
        expect(out).not.toMatch(/kvmesh-secret-data-is-secret\s+\(kubernetes:core\/v1:Secret: api\)/);
        expect(out).toMatch(/\[mandatory\]\s+kvmesh-command-secret-logging\s+\(command:remote:Command: install-key\)/);
        expect(out).toMatch(/stdin holds a secret but logging is 'stdoutAndStderr'/);
        expect(out).not.toContain("typed-in-plaintext");
        expect(out).not.toContain("kept-as-a-secret");

        // The same violations reach the reviewer's summary through the engine's event log.
        const log = fs.readFileSync(events, "utf8");
        expect(log).toContain("policyEvent");
        const risks = findRisks({ steps: [] }, log);
        expect(risks.map((x) => x.detail).join("\n")).toMatch(
            /kvmesh-mtls-strict.*PERMISSIVE[\s\S]*kvmesh-canary-routes.*80\+10/,
        );
    });
});
