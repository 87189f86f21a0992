/**
 * The whole provisioned stack through the real engine: Pulumi.dev.yaml's nodes and cluster with
 * SSH simulated (fake-command-provider.ts), and the Kubernetes layer applied to a real test API
 * server listening where the dev stack's kubeconfig points (127.0.0.1:6443). Used by the
 * full-stack e2e test and by scripts/record-previews.ts; no vitest imports.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { FAKE_PUBLIC_KEY, ROOT } from "../fixtures/configs";
import { localPathVolumes } from "../fixtures/kube";

export interface FullStackTools {
    /** bin directories of the tool groups kube and kube-kwok */
    kubeBin: string;
    kwokBin: string;
    /** environment from tools/pulumi-env.sh */
    pulumiEnv: NodeJS.ProcessEnv;
}

export interface Run {
    status: number;
    stdout: string;
    stderr: string;
}

export class FullStack {
    readonly root: string;
    readonly project: string;
    readonly env: NodeJS.ProcessEnv;
    readonly hostsLog: string;
    readonly cpDir: string;
    readonly kubeconfig: string;
    readonly stack = "dev";

    constructor(private readonly tools: FullStackTools) {
        this.root = fs.mkdtempSync(path.join(os.tmpdir(), "kvmesh-fullstack-"));
        this.project = path.join(this.root, "project");
        this.cpDir = path.join(this.root, "kube");
        this.hostsLog = path.join(this.root, "hosts.jsonl");
        fs.mkdirSync(this.project);
        fs.writeFileSync(this.hostsLog, "");

        // The control plane on the port k3s uses, so the dev stack's kubeconfig reaches it.
        const start = spawnSync(
            "bash",
            [
                path.join(ROOT, "tools", "control-plane", "start-control-plane.sh"),
                `${tools.kubeBin}:${tools.kwokBin}`,
                this.cpDir,
            ],
            {
                encoding: "utf8",
                env: { ...process.env, KUBE_NODES: "3", KUBE_APISERVER_PORT: "6443" },
            },
        );
        if (start.status !== 0) {
            this.stopControlPlane();
            throw new Error(`control plane did not start:\n${start.stderr.slice(-3000)}`);
        }
        this.kubeconfig = start.stdout.trim().split("\n").pop()!;
        const pvs = this.kubectl(["apply", "-f", "-"], localPathVolumes("fullstack-pv", 2));
        if (pvs.status !== 0) {
            this.stopControlPlane();
            throw new Error(`could not create the local-path volumes:\n${pvs.stderr}`);
        }

        // The simulated command plugin goes first on PATH (ambient plugins win over installed ones).
        const pluginDir = path.join(this.root, "plugins");
        fs.mkdirSync(pluginDir);
        fs.writeFileSync(
            path.join(pluginDir, "pulumi-resource-command"),
            `#!/bin/sh\nexec node -r ${path.join(ROOT, "node_modules", "ts-node", "register", "transpile-only")} ${path.join(ROOT, "test", "support", "fake-command-provider.ts")} "$@"\n`,
            { mode: 0o755 },
        );
        for (const entry of ["index.ts", "components", "node_modules", "package.json", "tsconfig.json"]) {
            fs.symlinkSync(path.join(ROOT, entry), path.join(this.project, entry));
        }
        fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(this.project, "Pulumi.yaml"));
        this.env = {
            ...tools.pulumiEnv,
            PATH: `${pluginDir}:${tools.pulumiEnv.PATH}`,
            PULUMI_BACKEND_URL: `file://${path.join(this.root, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: "kvmesh-dev-only",
            KVMESH_FAKE_HOSTS_LOG: this.hostsLog,
            KVMESH_FAKE_KUBECONFIG: this.kubeconfig,
            TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json"),
            NO_COLOR: "1",
        };
        fs.mkdirSync(path.join(this.root, "state"));
    }

    kubectl(args: string[], input?: string): Run {
        const r = spawnSync(path.join(this.tools.kubeBin, "kubectl"), ["--kubeconfig", this.kubeconfig, ...args], {
            encoding: "utf8",
            input,
        });
        return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    }

    pulumi(args: string[], input?: string): Run {
        const r = spawnSync("pulumi", [...args, "--stack", this.stack, "--non-interactive"], {
            cwd: this.project,
            env: this.env,
            encoding: "utf8",
            input,
            maxBuffer: 512 * 1024 * 1024,
        });
        return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    }

    ok(args: string[], input?: string): Run {
        const r = this.pulumi(args, input);
        if (r.status !== 0)
            throw new Error(
                `pulumi ${args.join(" ")} exited ${r.status}\n${r.stdout.slice(-5000)}\n${r.stderr.slice(-3000)}`,
            );
        return r;
    }

    /**
     * Create the stack from Pulumi.dev.yaml, pointed at the test API server (apiEndpoint
     * 127.0.0.1) and the offline Istio charts, with a fake key pair. `change` edits the config.
     */
    init(charts: string): void {
        const r = spawnSync("pulumi", ["stack", "init", this.stack, "--non-interactive"], {
            cwd: this.project,
            env: this.env,
            encoding: "utf8",
        });
        if (r.status !== 0) throw new Error(r.stderr);
        this.configure(() => undefined, charts);
        this.ok(["config", "set", "--secret", "kvmesh:sshPrivateKey"], "fake-private-key-simulated-hosts");
    }

    /** Rewrite the stack config from Pulumi.dev.yaml plus `change` (kept: the secret key). */
    configure(change: (config: Record<string, any>) => void, charts?: string): void {
        const file = path.join(this.project, `Pulumi.${this.stack}.yaml`);
        const current = parse(fs.readFileSync(file, "utf8")) ?? {};
        const base = parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")).config;
        const chartPath = charts ?? current.config?.["kvmesh:mesh"]?.chartSource?.path;
        base["kvmesh:ssh"] = { user: "ubuntu", publicKey: FAKE_PUBLIC_KEY };
        base["kvmesh:cluster"] = { ...base["kvmesh:cluster"], apiEndpoint: "127.0.0.1" };
        base["kvmesh:mesh"] = { chartSource: { path: chartPath } };
        change(base);
        const secret = current.config?.["kvmesh:sshPrivateKey"];
        fs.writeFileSync(
            file,
            stringify({ ...current, config: { ...base, ...(secret ? { "kvmesh:sshPrivateKey": secret } : {}) } }),
        );
    }

    /** Commands the simulated hosts ran since the last call. */
    takeHostLog(): { urn: string; which: string; script: string }[] {
        const lines = fs.readFileSync(this.hostsLog, "utf8").split("\n").filter(Boolean);
        fs.writeFileSync(this.hostsLog, "");
        return lines.map((l) => JSON.parse(l));
    }

    stopControlPlane(): void {
        spawnSync("bash", [path.join(ROOT, "tools", "control-plane", "stop-control-plane.sh"), this.cpDir], {
            stdio: "ignore",
        });
    }

    dispose(): void {
        this.stopControlPlane();
        fs.rmSync(this.root, { recursive: true, force: true });
    }
}
