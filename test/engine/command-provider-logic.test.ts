/**
 * The pure parts of kvmesh's command provider (tools/command-provider): input checking and
 * defaults, the diff (update vs replace), outputs and secrets, pinned host keys, the dial retry
 * policy, output capture and error messages. command-provider.test.ts runs the whole plugin
 * under the engine.
 */
import { describe, expect, it } from "vitest";
import {
    fingerprint,
    hostKeyAlgorithms,
    mayRetry,
    parseHostKey,
    retryDelayMs,
} from "../../tools/command-provider/hostkey";
import { OutputCapture, TAIL_LINES, failureMessage } from "../../tools/command-provider/output";
import {
    LOCAL_COMMAND,
    REMOTE_COMMAND,
    buildOutputs,
    checkInputs,
    commandArgs,
    diffInputs,
    urnName,
    urnType,
} from "../../tools/command-provider/resources";
import {
    SECRET_SIG,
    SIG_KEY,
    UNKNOWN,
    Value,
    makeSecret,
    unwrap,
    valueDiff,
} from "../../tools/command-provider/values";

const HOST_PUB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINgXelBs+qb6nPsYCc9khfVzgYIFm3qwJyNHlsxofMTh root@vm";
const HOST_FP = "SHA256:FOl1VmgYaDOr1gh9Mnq3h5NY9HdHdS67PkkrOOsKzSI"; // ssh-keygen -lf

const secret = (v: Value) => ({ [SIG_KEY]: SECRET_SIG, value: v });

/** A remote state as the provider stores it (after Check and Create). */
function remoteState(overrides: Record<string, Value> = {}): Record<string, Value> {
    const { inputs } = checkInputs(REMOTE_COMMAND, {
        connection: secret({ host: "10.0.0.5", privateKey: "KEY" }),
        create: "echo hi",
        triggers: ["a", 1],
        ...overrides,
    });
    return buildOutputs(REMOTE_COMMAND, inputs, "hi", "");
}

describe("checkInputs", () => {
    it("applies the official defaults inside the secret connection and its proxy", () => {
        const { inputs, failures } = checkInputs(REMOTE_COMMAND, {
            connection: secret({ host: "h", proxy: { host: "jump" } }),
            create: "true",
        });
        expect(failures).toEqual([]);
        expect(inputs.addPreviousOutputInEnv).toBe(true);
        expect(inputs.connection).toEqual(
            secret({
                host: "h",
                user: "root",
                port: 22,
                dialErrorLimit: 10,
                perDialTimeout: 15,
                proxy: { host: "jump", user: "root", port: 22, dialErrorLimit: 10, perDialTimeout: 15 },
            }),
        );
    });

    it("keeps explicit values and unknown connections", () => {
        const explicit = checkInputs(REMOTE_COMMAND, {
            connection: { host: "h", user: "ubuntu", port: 2222, dialErrorLimit: -1, perDialTimeout: 0 },
            addPreviousOutputInEnv: false,
        });
        expect(unwrap(explicit.inputs.connection)).toMatchObject({
            user: "ubuntu",
            port: 2222,
            dialErrorLimit: -1,
            perDialTimeout: 0,
        });
        expect(explicit.inputs.addPreviousOutputInEnv).toBe(false);
        const unknown = checkInputs(REMOTE_COMMAND, { connection: secret(UNKNOWN) });
        expect(unknown.failures).toEqual([]);
        expect(unknown.inputs.connection).toEqual(secret(UNKNOWN));
    });

    it("reports invalid inputs against their property paths", () => {
        const { failures } = checkInputs(REMOTE_COMMAND, {
            connection: { port: "22", hostKey: "not a key", bogus: 1 },
            logging: "verbose",
            environment: { A: 1 },
            triggers: "x",
        });
        expect(failures.map((f) => f.property).sort()).toEqual(
            [
                "connection.bogus",
                "connection.host",
                "connection.hostKey",
                "connection.port",
                "environment.A",
                "logging",
                "triggers",
            ].sort(),
        );
        expect(checkInputs(REMOTE_COMMAND, { create: "x" }).failures).toEqual([
            { property: "connection", reason: "missing required property 'connection'" },
        ]);
        expect(
            checkInputs(LOCAL_COMMAND, { create: "x", archivePaths: ["*"] }).failures.map((f) => f.property),
        ).toEqual(["archivePaths"]);
        expect(checkInputs(LOCAL_COMMAND, { create: "x", connection: {} }).failures.map((f) => f.property)).toEqual([
            "connection",
        ]);
    });
});

describe("diffInputs", () => {
    it("finds no changes between a state and the same inputs", () => {
        const state = remoteState();
        const { inputs } = checkInputs(REMOTE_COMMAND, {
            connection: secret({ host: "10.0.0.5", privateKey: "KEY" }),
            create: "echo hi",
            triggers: ["a", 1],
        });
        expect(diffInputs(REMOTE_COMMAND, state, inputs)).toEqual({
            changes: false,
            replaces: [],
            diffs: [],
            detailed: {},
        });
        // The SDK always sends the connection as a secret, but a plain one must not look changed either.
        expect(diffInputs(REMOTE_COMMAND, state, { ...inputs, connection: unwrap(inputs.connection)! }).changes).toBe(
            false,
        );
    });

    it("treats a changed create (or update, delete, connection, environment) as an update", () => {
        const state = remoteState();
        const changed = (overrides: Record<string, Value>) =>
            diffInputs(REMOTE_COMMAND, state, checkInputs(REMOTE_COMMAND, { ...checkedBase(), ...overrides }).inputs);
        const create = changed({ create: "echo bye" });
        expect(create).toEqual({
            changes: true,
            replaces: [],
            diffs: ["create"],
            detailed: { create: { kind: "update", replace: false } },
        });
        expect(changed({ update: "echo u" }).detailed).toEqual({ update: { kind: "add", replace: false } });
        expect(changed({ connection: secret({ host: "10.0.0.6", privateKey: "KEY" }) }).detailed).toEqual({
            "connection.host": { kind: "update", replace: false },
        });
        expect(changed({ environment: { "A.B": "1" } }).detailed).toEqual({
            environment: { kind: "add", replace: false },
        });
    });

    it("replaces on any change of triggers, with or without an update command", () => {
        const state = remoteState({ update: "echo u" });
        const news = (triggers: Value) =>
            checkInputs(REMOTE_COMMAND, { ...checkedBase(), update: "echo u", triggers }).inputs;
        expect(diffInputs(REMOTE_COMMAND, state, news(["b", 1]))).toEqual({
            changes: true,
            replaces: ["triggers"],
            diffs: ["triggers"],
            detailed: { "triggers[0]": { kind: "update", replace: true } },
        });
        expect(diffInputs(REMOTE_COMMAND, state, news(["a", 1, true])).detailed).toEqual({
            "triggers[2]": { kind: "add", replace: true },
        });
        expect(diffInputs(REMOTE_COMMAND, state, news(null)).replaces).toEqual(["triggers"]);
    });

    it("sees secretness changes and unknowns as updates, and honours ignoreChanges", () => {
        const state = remoteState({ stdin: "pw" });
        const news = (stdin: Value) => checkInputs(REMOTE_COMMAND, { ...checkedBase(), stdin }).inputs;
        expect(diffInputs(REMOTE_COMMAND, state, news(secret("pw"))).detailed).toEqual({
            stdin: { kind: "update", replace: false },
        });
        expect(diffInputs(REMOTE_COMMAND, state, news(UNKNOWN)).detailed).toEqual({
            stdin: { kind: "update", replace: false },
        });
        expect(diffInputs(REMOTE_COMMAND, state, news("other"), ["stdin"]).changes).toBe(false);
    });

    it("writes Pulumi property paths", () => {
        expect(valueDiff("environment", { "a.b": "1", c: "2" }, { "a.b": "3", c: "2" })).toEqual({
            'environment["a.b"]': "update",
        });
        expect(valueDiff("x", secret({ a: [1, 2] }), secret({ a: [1] }))).toEqual({ "x.a[1]": "delete" });
    });
});

/** Inputs matching remoteState() (before Check). */
function checkedBase(): Record<string, Value> {
    return { connection: secret({ host: "10.0.0.5", privateKey: "KEY" }), create: "echo hi", triggers: ["a", 1] };
}

describe("outputs", () => {
    it("echo the inputs with their secrets, always hide the connection, add stdout and stderr", () => {
        const out = buildOutputs(
            REMOTE_COMMAND,
            { connection: { host: "h" }, stdin: secret("pw"), create: "cat", update: null, unknownProp: "x" },
            "out",
            "err",
        );
        expect(out).toEqual({
            connection: secret({ host: "h" }),
            stdin: secret("pw"),
            create: "cat",
            stdout: "out",
            stderr: "err",
        });
        expect(makeSecret(out.connection)).toBe(out.connection);
    });

    it("give commands a secret-free view of the inputs", () => {
        const args = commandArgs(REMOTE_COMMAND, {
            connection: secret({ host: "h", port: 2200, user: "u", privateKey: secret("K"), proxy: { host: "j" } }),
            create: secret("echo s3cret"),
            delete: "rm x",
            environment: { A: secret("1") },
            logging: "none",
            addPreviousOutputInEnv: false,
        });
        expect(args.connection).toMatchObject({
            host: "h",
            port: 2200,
            user: "u",
            privateKey: "K",
            dialErrorLimit: 10,
            perDialTimeout: 15,
        });
        expect(args.connection?.proxy).toMatchObject({ host: "j", port: 22, user: "root" });
        expect(args.environment).toEqual({ A: "1" });
        expect([...args.secretCommands]).toEqual(["create"]);
        expect(args.logging).toBe("none");
        expect(args.addPreviousOutputInEnv).toBe(false);
        expect(commandArgs(LOCAL_COMMAND, {}).logging).toBe("stdoutAndStderr");
    });

    it("parse URNs, including parented types", () => {
        const urn = "urn:pulumi:dev::kvmesh::kvmesh:nodes:KvmNode$command:remote:Command::vm1-ready";
        expect(urnType(urn)).toBe(REMOTE_COMMAND);
        expect(urnName(urn)).toBe("vm1-ready");
    });
});

describe("host keys and dialling", () => {
    it("parses public key and known_hosts/ssh-keyscan lines", () => {
        const key = parseHostKey(HOST_PUB);
        expect(key.type).toBe("ssh-ed25519");
        expect(fingerprint(key.blob)).toBe(HOST_FP);
        const scanned = parseHostKey(
            `# 10.0.0.5:22 SSH-2.0-OpenSSH_9.2\n10.0.0.5 ${HOST_PUB.split(" ").slice(0, 2).join(" ")}`,
        );
        expect(scanned.blob.equals(key.blob)).toBe(true);
        expect(() => parseHostKey("ssh-rsa " + HOST_PUB.split(" ")[1])).toThrow(/OpenSSH public key/); // type/blob mismatch
        expect(() => parseHostKey("SHA256:abc")).toThrow();
        expect(hostKeyAlgorithms("ssh-ed25519")).toEqual(["ssh-ed25519"]);
        expect(hostKeyAlgorithms("ssh-rsa")).toContain("rsa-sha2-256");
    });

    it("tolerates dialErrorLimit failures (so limit+1 dials), -1 without limit, with a growing pause", () => {
        const dials = (limit: number) => {
            let failures = 0;
            while (mayRetry(failures + 1, limit) && failures < 1000) failures++;
            return failures + 1;
        };
        expect(dials(10)).toBe(11);
        expect(dials(0)).toBe(1);
        expect(dials(-1)).toBe(1001);
        expect([1, 2, 3].map(retryDelayMs)).toEqual([100, 150, 225]);
        expect(retryDelayMs(30)).toBe(5000);
    });
});

describe("output capture and failures", () => {
    const capture = (logging: "stdout" | "stderr" | "stdoutAndStderr" | "none") => {
        const logged: string[] = [];
        const c = new OutputCapture(logging, (line, stream) => logged.push(`${stream}:${line}`));
        c.push("stdout", Buffer.from("one\r\ntw"));
        c.push("stderr", Buffer.from("err\n"));
        c.push("stdout", Buffer.from("o\n\nthree"));
        c.finish();
        return { c, logged };
    };

    it("logs complete lines of the allowed streams and keeps the full text", () => {
        const both = capture("stdoutAndStderr");
        expect(both.logged).toEqual(["stdout:one", "stderr:err", "stdout:two", "stdout:three"]);
        expect(both.c.result()).toEqual({ stdout: "one\r\ntwo\n\nthree", stderr: "err" });
        expect(capture("stderr").logged).toEqual(["stderr:err"]);
        expect(capture("stdout").c.tailText()).toBe("one\ntwo\n\nthree");
        const none = capture("none");
        expect(none.logged).toEqual([]);
        expect(none.c.tailText()).toBe("");
        expect(none.c.result().stderr).toBe("err");
    });

    it("trims exactly one trailing newline and keeps a bounded tail", () => {
        const c = new OutputCapture("stdoutAndStderr", () => {});
        for (let i = 0; i < TAIL_LINES + 5; i++) c.push("stderr", Buffer.from(`line ${i}\n`));
        c.push("stdout", Buffer.from("x\n\n"));
        c.finish();
        expect(c.result().stdout).toBe("x\n");
        const tail = c.tailText().split("\n");
        expect(tail[0]).toBe(`(last ${TAIL_LINES} lines)`);
        expect(tail).toHaveLength(TAIL_LINES + 1);
        expect(tail[TAIL_LINES]).toBe("");
    });

    it("write error messages without output or command text when they may hold secrets", () => {
        const base = {
            status: "Process exited with status 3",
            which: "create",
            command: "run.sh --flag\nmore",
            tail: "boom",
        };
        expect(failureMessage({ ...base, commandIsSecret: false, logging: "stdoutAndStderr" })).toBe(
            'Process exited with status 3: running the create command "run.sh --flag …":\nboom',
        );
        expect(failureMessage({ ...base, commandIsSecret: true, logging: "stderr" })).toBe(
            "Process exited with status 3: running the create command:\nboom",
        );
        const quiet = failureMessage({ ...base, commandIsSecret: false, logging: "none", tail: "" });
        expect(quiet).toBe(
            'Process exited with status 3: running the create command (output not shown: logging is "none")',
        );
    });
});
