/** Running one of a resource's commands (create/update/delete) and turning the result into outputs. */
import { randomInt } from "crypto";
import { EngineLog } from "./engine";
import { runLocal } from "./local";
import { OutputCapture, failureMessage } from "./output";
import { CommandArgs, REMOTE_COMMAND, ResourceType } from "./resources";
import { EnvRejectedError, dial, exec } from "./ssh";

export interface RunContext {
    urn: string;
    log: EngineLog;
    signal: AbortSignal;
}

export type Which = "create" | "update" | "delete";

const SETENV_HINT = (key: string) =>
    `Unable to set '${key}'. This only works if your SSH server is configured to accept these variables via ` +
    `AcceptEnv. Alternatively, if a Bash-like shell runs the command on the remote host, you could prefix the ` +
    `command itself with the variables in the form 'VAR=value command'`;

/**
 * Run `which` (its text is `command`) and return stdout/stderr. `previous` is the state's
 * stdout/stderr, passed as PULUMI_COMMAND_STDOUT/PULUMI_COMMAND_STDERR when addPreviousOutputInEnv
 * (only when non-empty, like the official provider). Output lines stream to the engine log as
 * status messages, filtered by `logging`.
 */
export async function runCommand(
    type: ResourceType,
    args: CommandArgs,
    which: Which,
    command: string,
    previous: { stdout: string; stderr: string },
    ctx: RunContext,
): Promise<{ stdout: string; stderr: string }> {
    const streamId = randomInt(1, 2 ** 31 - 1);
    const info = (line: string) => void ctx.log.log("info", ctx.urn, line, { ephemeral: true, streamId });
    const capture = new OutputCapture(args.logging, info);
    const prevEnv: Record<string, string> = {};
    if (args.addPreviousOutputInEnv) {
        if (previous.stdout !== "") prevEnv.PULUMI_COMMAND_STDOUT = previous.stdout;
        if (previous.stderr !== "") prevEnv.PULUMI_COMMAND_STDERR = previous.stderr;
    }
    const fail = (status: string) =>
        new Error(
            failureMessage({
                status,
                which,
                command,
                commandIsSecret: args.secretCommands.has(which),
                logging: args.logging,
                tail: capture.tailText(),
            }),
        );
    try {
        if (type === REMOTE_COMMAND) {
            const conn = await dial(args.connection!, {
                signal: ctx.signal,
                status: (m) => void ctx.log.log("info", ctx.urn, m, { ephemeral: true }),
            });
            try {
                const res = await exec(conn.client, command, {
                    env: { ...args.environment, ...prevEnv },
                    required: new Set(Object.keys(args.environment)),
                    stdin: args.stdin,
                    onData: (stream, chunk) => capture.push(stream, chunk),
                    signal: ctx.signal,
                });
                for (const key of res.rejected) void ctx.log.log("warning", ctx.urn, SETENV_HINT(key));
                capture.finish();
                if (res.code === null) {
                    throw fail(
                        res.signal
                            ? `Process killed by signal ${res.signal}`
                            : "remote command exited without exit status or exit signal",
                    );
                }
                if (res.code !== 0) throw fail(`Process exited with status ${res.code}`);
            } catch (e) {
                if (e instanceof EnvRejectedError) {
                    for (const key of e.keys) void ctx.log.log("error", ctx.urn, SETENV_HINT(key));
                }
                throw e;
            } finally {
                conn.close();
            }
        } else {
            const status = await runLocal({
                interpreter: args.interpreter,
                command,
                dir: args.dir,
                env: { ...args.environment, ...prevEnv },
                stdin: args.stdin,
                onData: (stream, chunk) => capture.push(stream, chunk),
                signal: ctx.signal,
            });
            capture.finish();
            if (status !== "") throw fail(status);
        }
        return capture.result();
    } finally {
        await ctx.log.flush();
    }
}
