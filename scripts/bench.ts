/**
 * npm run bench: how long kvmesh takes to evaluate and to preview, measured side by side in one
 * run on this machine (not a test: it prints numbers and ratios).
 *  (a) mock evaluation of the program (recording mocks, no engine) for the dev stack and 50 nodes;
 *  (b) a real `pulumi preview` of the dev stack against the engine floor (a program that loads
 *      the same SDKs and plugins but declares nothing), as a ratio;
 *  (c) real previews at 3, 10 and 30 nodes, to show how the cost grows.
 * Every real preview is offline (Istio charts from the Go module cache) on a local backend.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { FAKE_PRIVATE_KEY, FAKE_PUBLIC_KEY, ROOT, asEngineConfig, devValues } from "../test/fixtures/configs";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A stack of `n` libvirt nodes: 1 server (3 from 10 nodes up), 10 nodes per hypervisor. */
export function nodesValues(n: number): Record<string, any> {
    const v = devValues();
    const hypervisors = Math.ceil(n / 10);
    v.hypervisors = Array.from({ length: hypervisors }, (_, i) => ({
        name: `kvm-${i + 1}`,
        host: `192.0.2.${10 + i}`,
    }));
    const servers = n >= 10 ? 3 : 1;
    v.network = { cidr: "192.0.2.0/24", gateway: "192.0.2.1", nameservers: ["192.0.2.1"] };
    v.nodes = Array.from({ length: n }, (_, i) => ({
        name: i < servers ? `cp-${i + 1}` : `worker-${i + 1 - servers}`,
        role: i < servers ? "server" : "agent",
        backend: "libvirt",
        hypervisor: `kvm-${Math.floor(i / 10) + 1}`,
        address: `192.0.2.${100 + i}`,
    }));
    return v;
}

/** Child mode: evaluate index.ts under mocks once and print the milliseconds. */
async function mockOnce(n: number): Promise<void> {
    const { setupMocks, settle } = await import("../test/support/mocks");
    const { config, secretKeys } = asEngineConfig(n === 0 ? devValues() : nodesValues(n), {
        sshPrivateKey: FAKE_PRIVATE_KEY,
    });
    const recorder = await setupMocks({ config, secretKeys });
    const start = process.hrtime.bigint();
    await import("../index");
    await settle();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    process.stdout.write(JSON.stringify({ ms, resources: recorder.resources.length }) + "\n");
}

function mockTimes(n: number, runs: number): { ms: number; resources: number } {
    const results = Array.from({ length: runs }, () => {
        const out = execFileSync("node", ["-r", "ts-node/register/transpile-only", __filename, "--mock", String(n)], {
            cwd: ROOT,
            encoding: "utf8",
        });
        return JSON.parse(out.trim().split("\n").pop()!);
    });
    return { ms: median(results.map((r) => r.ms)), resources: results[0].resources };
}

interface Engine {
    env: NodeJS.ProcessEnv;
    charts: string;
}

function engine(): Engine {
    const dump = execFileSync("bash", ["-c", `source ${path.join(ROOT, "tools", "pulumi-env.sh")} >&2 && env -0`], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
    });
    const env = Object.fromEntries(
        dump
            .split("\0")
            .filter(Boolean)
            .map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
    );
    return {
        env,
        charts: execFileSync("bash", [path.join(ROOT, "tools", "istio", "charts-dir.sh")], { encoding: "utf8" }).trim(),
    };
}

/** A throwaway project (this program, or the empty one) with one stack; returns a preview timer. */
function project(e: Engine, values: Record<string, any> | undefined): () => number {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmesh-bench-"));
    for (const entry of ["components", "node_modules", "package.json", "tsconfig.json"])
        fs.symlinkSync(path.join(ROOT, entry), path.join(dir, entry));
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    if (values) fs.symlinkSync(path.join(ROOT, "index.ts"), path.join(dir, "index.ts"));
    // The floor: the same SDKs and plugins loaded, nothing declared.
    else
        fs.writeFileSync(
            path.join(dir, "index.ts"),
            'import "@pulumi/command";\nimport "@pulumi/kubernetes";\nimport "@pulumi/pulumi";\n',
        );
    fs.mkdirSync(path.join(dir, "state"));
    const env = { ...e.env, PULUMI_BACKEND_URL: `file://${dir}/state`, PULUMI_CONFIG_PASSPHRASE: "bench-only" };
    const run = (args: string[], input?: string) => {
        const r = spawnSync("pulumi", [...args, "--non-interactive"], {
            cwd: dir,
            env,
            input,
            encoding: "utf8",
            maxBuffer: 256 * 1024 * 1024,
        });
        if (r.status !== 0)
            throw new Error(`pulumi ${args.join(" ")}: ${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
    };
    run(["stack", "init", "bench"]);
    if (values) {
        const config: Record<string, unknown> = {};
        for (const [k, v] of Object.entries({
            ...values,
            ssh: { user: "ubuntu", publicKey: FAKE_PUBLIC_KEY },
            mesh: { chartSource: { path: e.charts } },
        }))
            config[`kvmesh:${k}`] = v;
        const file = path.join(dir, "Pulumi.bench.yaml");
        const doc = fs.readFileSync(file, "utf8");
        fs.writeFileSync(file, `${doc}\n${stringify({ config })}`);
        run(["config", "set", "--secret", "kvmesh:sshPrivateKey"], FAKE_PRIVATE_KEY);
    }
    return () => {
        const start = Date.now();
        run(["preview"]);
        return Date.now() - start;
    };
}

async function main(): Promise<void> {
    const mockIndex = process.argv.indexOf("--mock");
    if (mockIndex > 0) return mockOnce(Number(process.argv[mockIndex + 1]));

    const cpu = os.cpus()[0]?.model ?? "unknown CPU";
    console.log(
        `kvmesh bench on ${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}\n`,
    );

    console.log("(a) mock evaluation (index.ts under recording mocks, median of 5 fresh processes)");
    const dev = mockTimes(0, 5);
    const fifty = mockTimes(50, 5);
    console.log(`    dev stack (3 nodes): ${dev.ms.toFixed(0)} ms for ${dev.resources} resources`);
    console.log(
        `    50 nodes:            ${fifty.ms.toFixed(0)} ms for ${fifty.resources} resources  (x${(fifty.ms / dev.ms).toFixed(1)})\n`,
    );

    const e = engine();
    console.log("(b) real pulumi preview, offline, local backend (median of 3)");
    const floorTimer = project(e, undefined);
    const devTimer = project(e, devValues());
    floorTimer(); // warm the plugin and compile caches once
    const floor = median([floorTimer(), floorTimer(), floorTimer()]);
    const devPreview = median([devTimer(), devTimer(), devTimer()]);
    console.log(`    engine floor (same plugins, no resources): ${floor} ms`);
    console.log(
        `    dev stack:                                 ${devPreview} ms  (x${(devPreview / floor).toFixed(2)} the floor)\n`,
    );

    console.log("(c) real preview by stack size (one run each)");
    let previous: [number, number] | undefined;
    for (const n of [3, 10, 30]) {
        const ms = project(e, nodesValues(n))();
        const marginal = previous ? `, +${((ms - previous[1]) / (n - previous[0])).toFixed(0)} ms per added node` : "";
        console.log(`    ${String(n).padStart(2)} nodes: ${ms} ms  (x${(ms / floor).toFixed(2)} the floor${marginal})`);
        previous = [n, ms];
    }
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
