/**
 * The real engine in tests: the pinned Pulumi CLI and plugins (tools/pulumi-env.sh), a throwaway
 * project directory that links to this repo's program, and a local file backend per test file.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { inject } from "vitest";
import { parse, stringify } from "yaml";
import { ROOT } from "../fixtures/configs";
import { RunResult, tempDir } from "./tools";

/** The environment tools/pulumi-env.sh sets up (PATH with the pinned CLI, offline switches). */
export function pulumiEnv(): NodeJS.ProcessEnv {
    const env = inject("pulumiEnv");
    if (!env) throw new Error("the global setup did not prepare the Pulumi toolchain");
    return { ...process.env, ...env };
}

export interface PulumiRun extends RunResult {
    args: string[];
}

export class TestProject {
    readonly dir: string;
    readonly backend: string;
    readonly env: NodeJS.ProcessEnv;

    /** A project directory whose program is this repo's index.ts (or `programDir`'s). */
    constructor(name: string, programDir = ROOT) {
        this.dir = tempDir(`${name}-project`);
        this.backend = tempDir(`${name}-state`);
        for (const entry of [
            "index.ts",
            "components",
            "node_modules",
            "package.json",
            "tsconfig.json",
            "policy",
            "cli",
        ]) {
            if (fs.existsSync(path.join(programDir, entry)))
                fs.symlinkSync(path.join(programDir, entry), path.join(this.dir, entry));
        }
        fs.copyFileSync(path.join(programDir, "Pulumi.yaml"), path.join(this.dir, "Pulumi.yaml"));
        this.env = {
            ...pulumiEnv(),
            PULUMI_BACKEND_URL: `file://${this.backend}`,
            PULUMI_CONFIG_PASSPHRASE: "kvmesh-test-only",
            PULUMI_HOME: pulumiEnv().PULUMI_HOME,
            NO_COLOR: "1",
        };
    }

    pulumi(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): PulumiRun {
        const r = spawnSync("pulumi", [...args, "--non-interactive"], {
            cwd: this.dir,
            env: { ...this.env, ...opts.env },
            input: opts.input,
            encoding: "utf8",
            maxBuffer: 256 * 1024 * 1024,
        });
        if (r.error) throw r.error;
        return { args, status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    }

    /** Run and fail the test with the CLI's output if it does not exit 0. */
    ok(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): PulumiRun {
        const r = this.pulumi(args, opts);
        if (r.status !== 0)
            throw new Error(
                `pulumi ${args.join(" ")} exited ${r.status}\n${r.stdout.slice(-6000)}\n${r.stderr.slice(-6000)}`,
            );
        return r;
    }

    /**
     * Set `kvmesh:<key>` config values: plain values written into Pulumi.<stack>.yaml as
     * structured YAML (as a person would), secrets through `pulumi config set --secret`.
     */
    configure(stack: string, values: Record<string, unknown>, secrets: Record<string, string> = {}): void {
        const file = path.join(this.dir, `Pulumi.${stack}.yaml`);
        const doc = (fs.existsSync(file) ? parse(fs.readFileSync(file, "utf8")) : null) ?? {};
        doc.config = doc.config ?? {};
        for (const [key, value] of Object.entries(values)) {
            if (value === undefined) delete doc.config[`kvmesh:${key}`];
            else doc.config[`kvmesh:${key}`] = value;
        }
        fs.writeFileSync(file, stringify(doc));
        for (const [key, value] of Object.entries(secrets)) {
            this.ok(["config", "set", "--stack", stack, "--secret", `kvmesh:${key}`], { input: value });
        }
    }

    /** Every file of the backend and project, for scanning for leaked secrets. */
    allFiles(): { file: string; text: string }[] {
        const out: { file: string; text: string }[] = [];
        const walk = (dir: string) => {
            for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
                const p = path.join(dir, e.name);
                if (e.isSymbolicLink()) continue;
                if (e.isDirectory()) walk(p);
                else out.push({ file: p, text: fs.readFileSync(p, "latin1") });
            }
        };
        walk(this.backend);
        walk(this.dir);
        return out;
    }

    remove(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
        fs.rmSync(this.backend, { recursive: true, force: true });
    }
}

export interface ControlPlane {
    workdir: string;
    kubeconfig: string;
    kubectl(args: string[], input?: string): RunResult;
    json<T = any>(args: string[]): T;
    stop(): void;
}

/** A real kube-apiserver (+ etcd, controller-manager, scheduler, kwok) on loopback. */
export function startControlPlane(name: string): ControlPlane {
    const bins = inject("toolBins");
    const binPath = [bins.kube, bins["kube-kwok"]].join(":");
    const workdir = tempDir(`${name}-kube`);
    const start = spawnSync(
        "bash",
        [path.join(ROOT, "tools", "control-plane", "start-control-plane.sh"), binPath, workdir],
        {
            encoding: "utf8",
            env: { ...process.env, KUBE_NODES: "2" },
        },
    );
    const stop = () =>
        void spawnSync("bash", [path.join(ROOT, "tools", "control-plane", "stop-control-plane.sh"), workdir], {
            stdio: "ignore",
        });
    if (start.status !== 0) {
        stop();
        throw new Error(`the test control plane did not start:\n${start.stderr.slice(-4000)}`);
    }
    const kubeconfig = start.stdout.trim().split("\n").pop()!;
    const kubectl = (args: string[], input?: string): RunResult => {
        const r = spawnSync(path.join(bins.kube, "kubectl"), ["--kubeconfig", kubeconfig, ...args], {
            encoding: "utf8",
            input,
        });
        return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    };
    return {
        workdir,
        kubeconfig,
        kubectl,
        json: (args) => {
            const r = kubectl([...args, "-o", "json"]);
            if (r.status !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
            return JSON.parse(r.stdout);
        },
        stop,
    };
}

/** `pulumi preview --json` output, parsed. */
export function previewJson(run: RunResult): any {
    const start = run.stdout.indexOf("{");
    return JSON.parse(run.stdout.slice(start));
}
