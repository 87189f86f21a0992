/**
 * Records `pulumi preview --json` of the dev stack against changed configs, from the real engine,
 * into test/fixtures/previews/, for the preview-summary tests. The stack runs as in the
 * full-stack e2e test: hosts simulated, Kubernetes real (test/support/fullstack.ts).
 *   npm run record-previews
 * Unchanged steps keep only op and URN, and very long strings (script bodies) are cut, to keep
 * the fixtures reviewable; everything the summary reads is kept. Also records the policy events
 * of test/engine/fixtures/other-team (a program the policy pack rejects), which the JSON lacks.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT, seedServices } from "../test/fixtures/configs";
import { FullStack } from "../test/support/fullstack";

type Config = Record<string, any>;
const breaker = (c: Config) => c["kvmesh:mesh"] as Config;

/** name -> what the scenario changes in Pulumi.dev.yaml's config. */
export const SCENARIOS: Record<string, (c: Config) => void> = {
    "no-change": () => undefined,
    "canary-50-50": (c) => {
        breaker(c).services = seedServices([50, 50]);
    },
    "mtls-permissive-migration": (c) => (breaker(c).mtls = { mode: "PERMISSIVE", migration: true }),
    "circuit-breaker-loosened": (c) =>
        (breaker(c).defaultCircuitBreaker = {
            maxConnections: 1000,
            http1MaxPendingRequests: 1,
            maxRequestsPerConnection: 1,
            consecutive5xxErrors: 10,
            interval: "10s",
            baseEjectionTime: "30s",
            maxEjectionPercent: 100,
        }),
    "worker-root-disk-bigger": (c) => (c["kvmesh:nodes"][1].diskGiB = 40),
    "worker-data-volume-resized": (c) => (c["kvmesh:nodes"][1].dataGiB = 300),
    "server-memory-raised": (c) => (c["kvmesh:nodes"][0].memoryMiB = 8192),
    "worker-removed": (c) => c["kvmesh:nodes"].splice(2, 1),
    "k3s-patch-changed": (c) => (c["kvmesh:cluster"].k3sVersion = "v1.29.14+k3s1"),
    "prometheus-retention": (c) => (c["kvmesh:observability"] = { prometheus: { retention: "30d" } }),
};

function trim(value: unknown): unknown {
    if (typeof value === "string")
        return value.length > 4000 ? `${value.slice(0, 4000)}…[cut by record-previews]` : value;
    if (Array.isArray(value)) return value.map(trim);
    if (value && typeof value === "object")
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, trim(v)]));
    return value;
}

function main(): void {
    const out = path.join(ROOT, "test", "fixtures", "previews");
    fs.mkdirSync(out, { recursive: true });
    const ensure = execFileSync("bash", [path.join(ROOT, "tools", "ensure.sh"), "kube", "kube-kwok"], {
        encoding: "utf8",
    })
        .trim()
        .split("\n");
    const envDump = execFileSync("bash", ["-c", `source ${path.join(ROOT, "tools", "pulumi-env.sh")} >&2 && env -0`], {
        encoding: "utf8",
    });
    const pulumiEnv = Object.fromEntries(
        envDump
            .split("\0")
            .filter(Boolean)
            .map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
    );
    const charts = execFileSync("bash", [path.join(ROOT, "tools", "istio", "charts-dir.sh")], {
        encoding: "utf8",
    }).trim();

    const stack = new FullStack({ kubeBin: ensure[0], kwokBin: ensure[1], pulumiEnv });
    try {
        stack.init(charts);
        process.stderr.write("record-previews: pulumi up of the dev stack (simulated hosts)\n");
        stack.ok(["up", "--yes", "--skip-preview"]);
        for (const [name, change] of Object.entries(SCENARIOS)) {
            stack.configure(change);
            const r = stack.pulumi(["preview", "--json"]);
            const json = JSON.parse(r.stdout.slice(r.stdout.indexOf("{")));
            json.steps = (json.steps ?? []).map((s: Record<string, unknown>) =>
                s.op === "same" ? { op: s.op, urn: s.urn } : trim(s),
            );
            delete json.config;
            fs.writeFileSync(path.join(out, `${name}.json`), JSON.stringify(json, null, 1) + "\n");
            process.stderr.write(`record-previews: ${name}: ${JSON.stringify(json.changeSummary)}\n`);
        }
        stack.configure(() => undefined);
        stack.ok(["destroy", "--yes", "--skip-preview"]);
    } finally {
        stack.dispose();
    }
    recordPolicyEvents(out, pulumiEnv);
}

/** `pulumi preview --event-log` of the other-team fixture with the policy pack; policy events only. */
export function recordPolicyEvents(out: string, pulumiEnv: NodeJS.ProcessEnv): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmesh-other-team-"));
    try {
        for (const f of ["Pulumi.yaml", "package.json", "index.ts"])
            fs.copyFileSync(path.join(ROOT, "test", "engine", "fixtures", "other-team", f), path.join(dir, f));
        fs.copyFileSync(path.join(ROOT, "tsconfig.json"), path.join(dir, "tsconfig.json"));
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
        fs.mkdirSync(path.join(dir, "state"));
        const env = {
            ...pulumiEnv,
            PULUMI_BACKEND_URL: `file://${dir}/state`,
            PULUMI_CONFIG_PASSPHRASE: "record-only",
            PULUMI_DEBUG_COMMANDS: "true",
        };
        const run = (args: string[], input?: string) =>
            spawnSync("pulumi", [...args, "--non-interactive"], { cwd: dir, env, input, encoding: "utf8" });
        run(["stack", "init", "shop"]);
        run(["config", "set", "--plaintext", "dbPassword", "typed-in-plaintext"]);
        run(["config", "set", "--secret", "apiKey"], "kept-as-a-secret");
        run(["preview", "--policy-pack", path.join(ROOT, "policy"), "--event-log", path.join(dir, "events.jsonl")]);
        const events = fs
            .readFileSync(path.join(dir, "events.jsonl"), "utf8")
            .split("\n")
            .filter((l) => l.includes('"policyEvent"'));
        fs.writeFileSync(path.join(out, "other-team.policy-events.jsonl"), events.join("\n") + "\n");
        process.stderr.write(`record-previews: other-team policy events: ${events.length}\n`);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

if (require.main === module) main();
