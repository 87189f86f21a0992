/**
 * kvmesh's `command` provider plugin (tools/command-provider) under the real Pulumi engine: a
 * throwaway OpenSSH server on 127.0.0.1, the pinned CLI from tools/pulumi-env.sh (which builds the
 * plugin with tools/ensure.sh and installs it with `pulumi plugin install --file`), a local file
 * backend and a small TypeScript program driven by scenario.json. Steps run in order and share
 * one stack.
 *
 * Needs root (sshd), openssh-server (apt-get install -y openssh-server) and the tool caches of
 * tools/pulumi-env.sh.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/tools";

const ROOT = path.resolve(__dirname, "..", "..");
const SSHD = "/usr/sbin/sshd";
const SECRET = "kvmesh-stdin-s3cret-7f3a";

interface Result {
    code: number;
    out: string;
}

/** Run a command asynchronously (the event loop keeps serving the fake booting host meanwhile). */
function run(
    cmd: string,
    args: string[],
    opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<Result> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["pipe", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? -1, out }));
        child.stdin.end(opts.input ?? "");
    });
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const ok = await new Promise<boolean>((resolve) => {
            const s = net.connect(port, "127.0.0.1");
            s.on("connect", () => {
                s.destroy();
                resolve(true);
            });
            s.on("error", () => resolve(false));
        });
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
        await new Promise((r) => setTimeout(r, 100));
    }
}

function keygen(file: string): string {
    const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "kvmesh-test", "-f", file], {
        encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
    return fs.readFileSync(`${file}.pub`, "utf8").trim();
}

const PROGRAM = `import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";

interface Spec {
    kind: "remote" | "local";
    args: Record<string, unknown>;
    secretStdin?: string;
    /** create = "echo got-<stdout of that resource>" (unknown during the first preview). */
    chainFrom?: string;
    opts?: { additionalSecretOutputs?: string[]; deleteBeforeReplace?: boolean };
}
const specs: Record<string, Spec> = JSON.parse(fs.readFileSync(path.join(__dirname, "scenario.json"), "utf8"));
const made: Record<string, command.remote.Command | command.local.Command> = {};
const stdout: Record<string, pulumi.Output<string>> = {};
const stderr: Record<string, pulumi.Output<string>> = {};
for (const [name, s] of Object.entries(specs)) {
    const args: any = { ...s.args };
    if (s.secretStdin !== undefined) args.stdin = pulumi.secret(s.secretStdin);
    if (s.chainFrom !== undefined) args.create = pulumi.interpolate\`echo got-\${made[s.chainFrom].stdout}\`;
    const res = s.kind === "remote" ? new command.remote.Command(name, args, s.opts) : new command.local.Command(name, args, s.opts);
    made[name] = res;
    stdout[name] = res.stdout;
    stderr[name] = res.stderr;
}
export const out = stdout;
export const err = stderr;
`;

describe("command provider plugin under the Pulumi engine", () => {
    let dir: string;
    let prog: string;
    let marker: string;
    let env: NodeJS.ProcessEnv;
    let sshdLog = "";
    const children: ChildProcess[] = [];
    let ports: { main: number; jump: number; late: number };
    let hostPub: string;
    let wrongPub: string;
    let clientKey: string;

    const startSshd = (name: string, lines: string[]): ChildProcess => {
        const cfg = path.join(dir, `${name}.sshd_config`);
        fs.writeFileSync(
            cfg,
            [
                "ListenAddress 127.0.0.1",
                `HostKey ${path.join(dir, "host_key")}`,
                `PidFile ${path.join(dir, `${name}.pid`)}`,
                `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
                "StrictModes no",
                "UsePAM no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "AcceptEnv KVMESH_* PULUMI_COMMAND_*",
                "AllowTcpForwarding yes",
                "LogLevel VERBOSE",
                ...lines,
                "",
            ].join("\n"),
        );
        const child = spawn(SSHD, ["-D", "-e", "-f", cfg], { stdio: ["ignore", "pipe", "pipe"] });
        child.stdout!.on("data", (d) => (sshdLog += d));
        child.stderr!.on("data", (d) => (sshdLog += d));
        children.push(child);
        return child;
    };

    const connection = (port: number, extra: Record<string, unknown> = {}) => ({
        host: "127.0.0.1",
        port,
        user: os.userInfo().username,
        privateKey: clientKey,
        ...extra,
    });

    const writeScenario = (specs: Record<string, unknown>) =>
        fs.writeFileSync(path.join(prog, "scenario.json"), JSON.stringify(specs, null, 2));

    const pulumi = (...args: string[]) => run("pulumi", args, { cwd: prog, env });

    const outputs = async (): Promise<{ out: Record<string, string>; err: Record<string, string> }> => {
        const r = await pulumi("stack", "output", "--json", "--show-secrets");
        expect(r.code, r.out).toBe(0);
        return JSON.parse(r.out);
    };

    const markerLines = () => (fs.existsSync(marker) ? fs.readFileSync(marker, "utf8").trim().split("\n") : []);

    /** The long-lived resources; later steps change them. */
    const base = (createVersion: number, trigger: string) => ({
        basic: {
            kind: "remote",
            args: {
                connection: connection(ports.main, { hostKey: hostPub }),
                create:
                    `echo "create v${createVersion} KVMESH_V=$KVMESH_V prev=$PULUMI_COMMAND_STDOUT" >> ${marker}; ` +
                    `echo basic-out-${createVersion}; echo basic-err-${createVersion} >&2`,
                delete: `echo "delete prev=$PULUMI_COMMAND_STDOUT" >> ${marker}`,
                environment: { KVMESH_V: "1" },
                triggers: [trigger],
            },
            opts: { deleteBeforeReplace: true },
        },
        secret: {
            kind: "remote",
            args: { connection: connection(ports.main), create: "cat", logging: "none" },
            secretStdin: SECRET,
            opts: { additionalSecretOutputs: ["stdout"] },
        },
        jump: {
            kind: "remote",
            args: {
                connection: connection(ports.main, { proxy: connection(ports.jump) }),
                create: "echo jumped",
            },
        },
        late: {
            kind: "remote",
            args: {
                connection: connection(ports.late, { dialErrorLimit: 30, perDialTimeout: 5 }),
                create: "echo late-ok",
            },
        },
        chained: { kind: "local", args: {}, chainFrom: "jump" },
        local: {
            kind: "local",
            args: {
                create: 'echo "local $KVMESH_L $(pwd)"',
                delete: `echo local-deleted >> ${marker}`,
                dir,
                environment: { KVMESH_L: "ok" },
            },
        },
    });

    beforeAll(async () => {
        if (!fs.existsSync(SSHD)) {
            throw new Error(`${SSHD} is missing: apt-get install -y openssh-server (the test runs a throwaway sshd)`);
        }
        if (process.getuid?.() !== 0) throw new Error("this test runs sshd and must run as root");
        dir = tempDir("command-provider");
        marker = path.join(dir, "marker.log");
        fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // sshd's privilege separation directory

        hostPub = keygen(path.join(dir, "host_key"));
        wrongPub = keygen(path.join(dir, "wrong_host_key"));
        fs.writeFileSync(path.join(dir, "authorized_keys"), keygen(path.join(dir, "client_key")) + "\n");
        clientKey = fs.readFileSync(path.join(dir, "client_key"), "utf8");
        ports = { main: await freePort(), jump: await freePort(), late: await freePort() };
        // One sshd is both target and jump host; on the jump port it logs the forwarding requests.
        startSshd("main", [
            `Port ${ports.main}`,
            `Port ${ports.jump}`,
            `Match LocalPort ${ports.jump}`,
            "    LogLevel DEBUG1",
        ]);
        await waitForPort(ports.main);

        // The pinned CLI, with the plugin built by ensure.sh and installed into a private PULUMI_HOME.
        const home = path.join(dir, "pulumi-home");
        const sourced = spawnSync("bash", ["-c", `source "${ROOT}/tools/pulumi-env.sh" >&2 && env -0`], {
            encoding: "utf8",
            env: {
                ...process.env,
                PULUMI_HOME: home,
                KVMESH_PULUMI_PROVIDER_GROUPS: "command-provider",
                KVMESH_PULUMI_PLUGINS: "install",
            },
            maxBuffer: 16 * 1024 * 1024,
        });
        if (sourced.status !== 0) throw new Error(`tools/pulumi-env.sh failed:\n${sourced.stderr}`);
        env = Object.fromEntries(
            sourced.stdout
                .split("\0")
                .filter((kv) => kv.includes("="))
                .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
        );
        fs.mkdirSync(path.join(dir, "state"));
        Object.assign(env, {
            PULUMI_HOME: home,
            PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: "kvmesh-test",
            PULUMI_NODEJS_TRANSPILE_ONLY: "true",
            NO_COLOR: "1",
        });
        delete env.SSH_AUTH_SOCK;

        prog = path.join(dir, "program");
        fs.mkdirSync(prog);
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(prog, "node_modules"));
        fs.writeFileSync(path.join(prog, "Pulumi.yaml"), "name: cmdprovider\nruntime: nodejs\n");
        fs.writeFileSync(path.join(prog, "package.json"), '{ "name": "cmdprovider", "main": "index.ts" }\n');
        fs.writeFileSync(path.join(prog, "index.ts"), PROGRAM);
        const init = await pulumi("stack", "init", "test");
        expect(init.code, init.out).toBe(0);
    }, 600_000);

    afterAll(() => {
        for (const c of children) c.kill();
        if (dir && !process.env.KVMESH_KEEP_TEST_DIR) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("is installed as resource plugin command 1.2.1", async () => {
        const r = await pulumi("plugin", "ls");
        expect(r.code, r.out).toBe(0);
        expect(r.out).toMatch(/command\s+resource\s+1\.2\.1/);
    });

    it("pulumi up runs create over SSH (direct, pinned host key, jump host, host still booting) and locally", async () => {
        writeScenario(base(1, "t1"));
        // The "late" host: something accepts TCP but hangs up before SSH (a booting VM); after two
        // such dials the real sshd takes over the port.
        let dials = 0;
        const booting = net.createServer((s) => {
            dials++;
            s.destroy();
            if (dials === 2) booting.close(() => startSshd("late", [`Port ${ports.late}`]));
        });
        await new Promise<void>((resolve) => booting.listen(ports.late, "127.0.0.1", resolve));

        // Preview: Create(preview) with inputs still unknown (chained's create).
        const preview = await pulumi("preview");
        expect(preview.code, preview.out).toBe(0);
        expect(preview.out).toMatch(/\+ 7 to create/);
        expect(dials).toBe(0); // nothing runs in a preview

        const up = await pulumi("up", "--yes", "--skip-preview");
        expect(up.code, up.out).toBe(0);
        const { out, err } = await outputs();
        expect(out.basic).toBe("basic-out-1"); // one trailing newline trimmed
        expect(err.basic).toBe("basic-err-1");
        expect(out.secret).toBe(SECRET);
        expect(out.jump).toBe("jumped");
        expect(out.late).toBe("late-ok");
        expect(out.local).toBe(`local ok ${dir}`);
        expect(out.chained).toBe("got-jumped");
        expect(markerLines()).toEqual(["create v1 KVMESH_V=1 prev="]);

        // Output lines stream to the engine log, attached to their resource.
        expect(up.out).toMatch(/command:remote:Command\s+basic\s+creating.*basic-out-1/);
        expect(up.out).toMatch(/basic\s+creating.*basic-err-1/);
        // Retries while the host boots.
        expect(dials).toBe(2);
        expect(up.out).toMatch(/late\s+creating.*Dial 1\/30 failed: retrying/);
        // The jump host opened a channel to the target.
        expect(sshdLog).toContain(
            `server_request_direct_tcpip: originator 127.0.0.1 port 0, target 127.0.0.1 port ${ports.main}`,
        );
        expect(up.out).not.toContain(SECRET);
    }, 120_000);

    it("keeps secrets out of the CLI output and the state", async () => {
        const exported = await pulumi("stack", "export");
        expect(exported.code, exported.out).toBe(0);
        expect(exported.out).not.toContain(SECRET);
        expect(exported.out).not.toContain(clientKey.split("\n")[1]); // the connection is a secret output
        const state = JSON.parse(exported.out);
        const secretRes = state.deployment.resources.find((r: any) => r.urn.endsWith("::secret"));
        expect(secretRes.outputs.stdout).toHaveProperty("ciphertext");
        expect(secretRes.outputs.stdin).toHaveProperty("ciphertext");
        expect(secretRes.outputs.connection).toHaveProperty("ciphertext");
        const plain = await pulumi("stack", "output", "--json");
        expect(plain.out).not.toContain(SECRET);
    });

    it("refresh reads the state back unchanged; an unchanged program has no changes", async () => {
        const refresh = await pulumi("refresh", "--yes", "--skip-preview");
        expect(refresh.code, refresh.out).toBe(0);
        expect(refresh.out).toMatch(/Resources:\s+7 unchanged/);
        const preview = await pulumi("preview", "--expect-no-changes");
        expect(preview.code, preview.out).toBe(0);
    }, 120_000);

    it("a changed create is an update that runs create again (no delete), with the previous stdout", async () => {
        const next = base(2, "t1");
        writeScenario(next);
        const preview = await pulumi("preview");
        expect(preview.code, preview.out).toBe(0);
        expect(preview.out).toMatch(/~\s+command:remote:Command\s+basic\s+update\s+\[diff: ~create\]/);
        expect(preview.out).not.toMatch(/(jump|secret|late|local|chained)\s+update/);

        const up = await pulumi("up", "--yes", "--skip-preview");
        expect(up.code, up.out).toBe(0);
        expect(markerLines()).toEqual(["create v1 KVMESH_V=1 prev=", "create v2 KVMESH_V=1 prev=basic-out-1"]);
        expect((await outputs()).out.basic).toBe("basic-out-2");
    }, 120_000);

    it("changed triggers replace the resource: delete, then create (deleteBeforeReplace)", async () => {
        writeScenario(base(2, "t2"));
        const up = await pulumi("up", "--yes", "--skip-preview");
        expect(up.code, up.out).toBe(0);
        expect(up.out).toMatch(/basic\s+replaced/);
        expect(markerLines().slice(2)).toEqual(["delete prev=basic-out-2", "create v2 KVMESH_V=1 prev="]);
    }, 120_000);

    it("failed commands fail pulumi up with the exit status; logging none keeps output out of errors", async () => {
        const flagFile = path.join(dir, "badenv-ran");
        writeScenario({
            ...base(2, "t2"),
            fails: {
                kind: "remote",
                args: { connection: connection(ports.main), create: "echo fail-out-q1; echo fail-err-q1 >&2; exit 3" },
            },
            quiet: {
                kind: "remote",
                args: {
                    connection: connection(ports.main),
                    create: "echo quiet-out-q2; echo quiet-err-q2 >&2; exit 4",
                    logging: "none",
                },
            },
            localFails: { kind: "local", args: { create: "echo local-err-q3 >&2; exit 5" } },
            badEnv: {
                kind: "remote",
                args: {
                    connection: connection(ports.main),
                    create: `touch ${flagFile}`,
                    environment: { NOT_ACCEPTED: "x" },
                },
            },
            wrongKey: {
                kind: "remote",
                args: { connection: connection(ports.main, { hostKey: wrongPub }), create: "echo never" },
            },
        });
        const started = Date.now();
        const up = await pulumi("up", "--yes", "--skip-preview", "--continue-on-error");
        expect(up.code).not.toBe(0);
        expect(up.out).toMatch(
            /Process exited with status 3: running the create command "echo fail-out-q1[^\n]*:\n[\s\S]*fail-err-q1/,
        );
        expect(up.out).toContain(
            'Process exited with status 4: running the create command (output not shown: logging is "none")',
        );
        expect(up.out).not.toContain("quiet-out-q2");
        expect(up.out).not.toContain("quiet-err-q2");
        expect(up.out).toMatch(/exit status 5: running the create command[^\n]*:\n[\s\S]*local-err-q3/);
        expect(up.out).toContain('could not set environment variable "NOT_ACCEPTED"');
        expect(up.out).toContain("Unable to set 'NOT_ACCEPTED'");
        expect(fs.existsSync(flagFile)).toBe(false); // refused environment: the command never started
        expect(up.out).toMatch(/host key mismatch for 127\.0\.0\.1:\d+: expected ssh-ed25519 SHA256:/);
        expect(up.out).not.toMatch(/wrongKey[^\n]*Dial 1\/10 failed/); // a wrong host key is not retried
        expect(Date.now() - started).toBeLessThan(60_000);

        const exported = await pulumi("stack", "export");
        for (const name of ["fails", "quiet", "localFails", "badEnv", "wrongKey"]) {
            expect(exported.out).not.toContain(`::${name}"`);
        }
    }, 120_000);

    it("pulumi destroy runs the delete commands with the last stdout", async () => {
        writeScenario(base(2, "t2"));
        const destroy = await pulumi("destroy", "--yes", "--skip-preview");
        expect(destroy.code, destroy.out).toBe(0);
        const lines = markerLines();
        expect(lines.slice(4).sort()).toEqual(["delete prev=basic-out-2", "local-deleted"]);
    }, 120_000);
});
