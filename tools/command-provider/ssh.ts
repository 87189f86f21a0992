/**
 * SSH for command:remote:Command, on ssh2 (pure JavaScript): dialling with the official retry
 * policy, an optional jump host (`connection.proxy`), a pinned host key, and running one command
 * with environment requests that must be accepted by the server (as the official provider does
 * with Go's Session.Setenv).
 */
import { AuthMethod, Client, ClientChannel, ConnectConfig, utils } from "ssh2";
import { fingerprint, hostKeyAlgorithms, mayRetry, parseHostKey, retryDelayMs } from "./hostkey";
import { ConnectionArgs, RemoteConnectionArgs } from "./resources";

/** An error that retrying cannot fix (bad key material, host key mismatch). */
export class NonRetryableError extends Error {}

export interface DialHooks {
    signal: AbortSignal;
    /** Progress messages ("Dial 1/10 failed: retrying"). */
    status(message: string): void;
}

function message(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
}

function abortError(): Error {
    return new NonRetryableError("operation cancelled");
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
        if (signal.aborted) return reject(abortError());
        const timer = setTimeout(() => {
            signal.removeEventListener("abort", onAbort);
            resolve();
        }, ms);
        const onAbort = () => {
            clearTimeout(timer);
            reject(abortError());
        };
        signal.addEventListener("abort", onAbort, { once: true });
    });
}

/** Auth methods in the official order: private key, password (+ keyboard-interactive), agent. */
function authMethods(c: ConnectionArgs): AuthMethod[] {
    const username = c.user;
    const methods: AuthMethod[] = [{ type: "none", username }];
    if (c.privateKey !== undefined) {
        const parsed = utils.parseKey(c.privateKey, c.privateKeyPassword);
        if (parsed instanceof Error) throw new NonRetryableError(`ssh: cannot parse privateKey: ${parsed.message}`);
        const key = Array.isArray(parsed) ? parsed[0] : parsed;
        methods.push({ type: "publickey", username, key });
    }
    if (c.password !== undefined) {
        const password = c.password;
        methods.push({ type: "password", username, password });
        methods.push({
            type: "keyboard-interactive",
            username,
            prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)),
        });
    }
    const agent = c.agentSocketPath ?? process.env.SSH_AUTH_SOCK;
    if (agent) methods.push({ type: "agent", username, agent });
    return methods;
}

/** One SSH handshake + authentication, over TCP or over `sock` (a channel through a jump host). */
function connectOnce(c: ConnectionArgs, signal: AbortSignal, sock?: ClientChannel): Promise<Client> {
    const methods = authMethods(c);
    const pinned = c.hostKey !== undefined ? parseHostKey(c.hostKey) : undefined;
    let mismatch: string | undefined;
    const config: ConnectConfig = {
        host: c.host,
        port: c.port,
        username: c.user,
        sock,
        readyTimeout: c.perDialTimeout > 0 ? c.perDialTimeout * 1000 : 0,
        authHandler: (_left, _partial, next) => next(methods.shift() ?? false),
    };
    if (pinned) {
        const algorithms = hostKeyAlgorithms(pinned.type);
        if (algorithms) config.algorithms = { serverHostKey: algorithms };
        config.hostVerifier = (key: Buffer) => {
            if (key.equals(pinned.blob)) return true;
            mismatch = `ssh: host key mismatch for ${c.host}:${c.port}: expected ${pinned.type} ${fingerprint(pinned.blob)}, the server presented ${fingerprint(key)}`;
            return false;
        };
    }
    return new Promise<Client>((resolve, reject) => {
        const client = new Client();
        let settled = false;
        const settle = (err?: Error) => {
            if (settled) return;
            settled = true;
            signal.removeEventListener("abort", onAbort);
            if (err) {
                client.destroy();
                reject(err);
            } else resolve(client);
        };
        const onAbort = () => settle(abortError());
        signal.addEventListener("abort", onAbort, { once: true });
        // Errors after the handshake surface through the command's channel; keep them from crashing.
        client.on("error", (err: Error) => settle(mismatch ? new NonRetryableError(mismatch) : err));
        client.on("close", () =>
            settle(new Error(mismatch ?? `ssh: connection to ${c.host}:${c.port} closed during the handshake`)),
        );
        client.on("ready", () => settle());
        try {
            client.connect(config);
        } catch (e) {
            settle(e instanceof Error ? e : new Error(String(e)));
        }
    });
}

/** Retry `attempt` like the official provider: up to dialErrorLimit failures (-1: no limit). */
async function withRetries<T>(label: string, limit: number, hooks: DialHooks, attempt: () => Promise<T>): Promise<T> {
    for (let failures = 0; ;) {
        try {
            return await attempt();
        } catch (e) {
            if (e instanceof NonRetryableError || hooks.signal.aborted) throw e;
            failures++;
            if (!mayRetry(failures, limit)) {
                throw new Error(`${label}: after ${failures} failed attempts: ${message(e)}`);
            }
            hooks.status(`${label} ${failures}/${limit < 0 ? "inf" : limit} failed: retrying (${message(e)})`);
            await sleep(retryDelayMs(failures), hooks.signal);
        }
    }
}

/** A direct-tcpip channel from the jump host to the target, within perDialTimeout. */
function forward(proxy: Client, c: ConnectionArgs, signal: AbortSignal): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
        let done = false;
        const finish = (err?: Error, chan?: ClientChannel) => {
            if (done) {
                chan?.close();
                return;
            }
            done = true;
            clearTimeout(timer);
            signal.removeEventListener("abort", onAbort);
            if (err || !chan) reject(err ?? new Error("no channel"));
            else resolve(chan);
        };
        const timer =
            c.perDialTimeout > 0
                ? setTimeout(
                      () => finish(new Error(`timed out opening a channel to ${c.host}:${c.port}`)),
                      c.perDialTimeout * 1000,
                  )
                : undefined;
        const onAbort = () => finish(abortError());
        signal.addEventListener("abort", onAbort, { once: true });
        try {
            proxy.forwardOut("127.0.0.1", 0, c.host, c.port, (err, chan) => finish(err, chan));
        } catch (e) {
            finish(e instanceof Error ? e : new Error(String(e)));
        }
    });
}

export interface Connection {
    client: Client;
    close(): void;
}

/** Connect to the target, through the jump host when `proxy` is set, retrying as configured. */
export async function dial(conn: RemoteConnectionArgs, hooks: DialHooks): Promise<Connection> {
    if (!conn.proxy) {
        const client = await withRetries("Dial", conn.dialErrorLimit, hooks, () => connectOnce(conn, hooks.signal));
        return { client, close: () => client.end() };
    }
    const proxyArgs = conn.proxy;
    let proxy: Client | undefined;
    const proxies: Client[] = [];
    const getProxy = async (): Promise<Client> => {
        if (proxy) return proxy;
        let p: Client;
        try {
            p = await withRetries("Dial proxy", proxyArgs.dialErrorLimit, hooks, () =>
                connectOnce(proxyArgs, hooks.signal),
            );
        } catch (e) {
            throw new NonRetryableError(`proxy: ${message(e)}`);
        }
        proxies.push(p);
        p.on("close", () => {
            if (proxy === p) proxy = undefined;
        });
        proxy = p;
        return p;
    };
    const closeProxies = () => proxies.forEach((p) => p.end());
    try {
        const client = await withRetries("Dial", conn.dialErrorLimit, hooks, async () => {
            const chan = await forward(await getProxy(), conn, hooks.signal);
            return connectOnce(conn, hooks.signal, chan);
        });
        return {
            client,
            close: () => {
                client.end();
                closeProxies();
            },
        };
    } catch (e) {
        closeProxies();
        if (e instanceof NonRetryableError && message(e).startsWith("proxy: ")) throw e;
        throw new Error(`proxy: ${message(e)}`);
    }
}

/** ssh2 internals used to send `env` requests with want-reply (see execWithCheckedEnv). */
interface Ssh2Channel {
    outgoing?: { id?: number };
    _callbacks?: Array<(hadErr: boolean | Error) => void>;
    close?: () => void;
}
type ProtocolFn = (this: unknown, ...args: unknown[]) => unknown;
interface Ssh2Internals {
    _protocol?: { env?: ProtocolFn; exec?: ProtocolFn };
    _chanMgr?: { _channels?: Record<string, unknown> };
}

function channelById(internals: Ssh2Internals, outgoingId: unknown): Ssh2Channel | undefined {
    for (const c of Object.values(internals._chanMgr?._channels ?? {})) {
        if (typeof c === "object" && c !== null && (c as Ssh2Channel).outgoing?.id === outgoingId)
            return c as Ssh2Channel;
    }
    return undefined;
}

export class EnvRejectedError extends Error {
    constructor(readonly keys: string[]) {
        super(
            `could not set environment variable ${keys.map((k) => JSON.stringify(k)).join(", ")}: ssh: setenv failed`,
        );
    }
}

/**
 * client.exec with every `env` request sent with want-reply, like Go's Session.Setenv (ssh2 sends
 * them fire-and-forget). The exec request waits for the replies; if a `required` variable was
 * refused, the command is not started and the exec fails with EnvRejectedError. Refused optional
 * variables are reported through `rejected`.
 */
function execWithCheckedEnv(
    client: Client,
    command: string,
    env: Record<string, string>,
    required: Set<string>,
    rejected: string[],
): Promise<ClientChannel> {
    const internals = client as unknown as Ssh2Internals;
    const proto = internals._protocol;
    const origEnv = proto?.env;
    const origExec = proto?.exec;
    if (Object.keys(env).length === 0) {
        return new Promise((resolve, reject) =>
            client.exec(command, {}, (err, chan) => (err ? reject(err) : resolve(chan))),
        );
    }
    if (!proto || !origEnv || !origExec || !internals._chanMgr) {
        throw new Error("unsupported ssh2 version: cannot send environment requests with want-reply");
    }
    const replies: Promise<void>[] = [];
    proto.env = function (this: unknown, chanId: unknown, key: unknown, value: unknown) {
        const chan = channelById(internals, chanId);
        if (!chan?._callbacks) return origEnv.call(this, chanId, key, value, false);
        replies.push(
            new Promise<void>((resolve) =>
                chan._callbacks!.push((hadErr) => {
                    if (hadErr) rejected.push(String(key));
                    resolve();
                }),
            ),
        );
        return origEnv.call(this, chanId, key, value, true);
    };
    proto.exec = function (this: unknown, chanId: unknown, cmd: unknown, wantReply: unknown) {
        void Promise.all(replies).then(() => {
            const refused = rejected.filter((k) => required.has(k));
            if (refused.length === 0) {
                origExec.call(this, chanId, cmd, wantReply);
                return;
            }
            // Fail ssh2's pending exec callback (the last one queued on the channel) instead.
            const chan = channelById(internals, chanId);
            const callbacks = chan?._callbacks ?? [];
            const cb = callbacks.pop();
            chan?.close?.();
            cb?.(new EnvRejectedError(refused));
        });
        return true;
    };
    return new Promise<ClientChannel>((resolve, reject) => {
        client.exec(command, { env }, (err, chan) => {
            proto.env = origEnv;
            proto.exec = origExec;
            if (err) reject(err);
            else resolve(chan);
        });
    });
}

export interface ExecOptions {
    /** Environment requests; a refusal of one of `required` fails the run before the command starts. */
    env: Record<string, string>;
    required: Set<string>;
    stdin?: string;
    onData(stream: "stdout" | "stderr", chunk: Buffer): void;
    signal: AbortSignal;
}

export interface ExecResult {
    /** Exit status, or null when the command died of a signal or the status is missing. */
    code: number | null;
    signal?: string;
    /** Optional variables the server refused. */
    rejected: string[];
}

export async function exec(client: Client, command: string, opts: ExecOptions): Promise<ExecResult> {
    const rejected: string[] = [];
    const chan = await execWithCheckedEnv(client, command, opts.env, opts.required, rejected);
    return new Promise<ExecResult>((resolve, reject) => {
        let code: number | null = null;
        let sig: string | undefined;
        const onAbort = () => {
            chan.close();
            client.destroy();
            reject(abortError());
        };
        opts.signal.addEventListener("abort", onAbort, { once: true });
        chan.on("data", (d: Buffer) => opts.onData("stdout", d));
        chan.stderr.on("data", (d: Buffer) => opts.onData("stderr", d));
        chan.on("exit", (c: number | null, s?: string) => {
            if (typeof c === "number") code = c;
            else if (s) sig = s;
        });
        chan.on("error", (err: Error) => {
            opts.signal.removeEventListener("abort", onAbort);
            reject(err);
        });
        chan.on("close", () => {
            opts.signal.removeEventListener("abort", onAbort);
            resolve({ code, signal: sig, rejected });
        });
        // Stdin, then EOF (Go's ssh does the same with an empty reader when there is no stdin).
        if (opts.stdin !== undefined && opts.stdin.length > 0) chan.end(opts.stdin);
        else chan.end();
    });
}
