/**
 * Running kvmesh's shell scripts over SSH. Scripts live as .sh files next to the component
 * that uses them; non-secret values travel as an inline environment prefix (visible in the
 * preview diff, so reviewers see what changes), secrets only ever through stdin.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";

/** Quote a string for a POSIX shell: the result is one word whatever the input holds. */
export function shellQuote(value: string): string {
    if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface ScriptInvocation {
    /** The script's text. */
    script: string;
    /** Name shown as $0 in the script's error messages. */
    name: string;
    /** Non-secret environment for the script. */
    env?: Record<string, string | number | boolean>;
    /** Positional arguments ("$@" in the script). */
    args?: string[];
    /** Run as root (every kvmesh host script needs it; sudo is a no-op for root). */
    sudo?: boolean;
}

/**
 * Render a script as one command line for the remote login shell:
 *   sudo env A='1' B='2' bash -c '<script>' <name> <args...>
 * stdin stays free, so secrets can be piped to the script without touching the command line.
 */
export function renderScriptCommand(inv: ScriptInvocation): string {
    const env = Object.entries(inv.env ?? {}).map(([k, v]) => {
        if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new Error(`invalid environment variable name: ${k}`);
        return `${k}=${shellQuote(String(v))}`;
    });
    const words = [
        ...(inv.sudo === false ? [] : ["sudo"]),
        "env",
        ...env,
        "bash",
        "-c",
        shellQuote(inv.script),
        shellQuote(inv.name),
        ...(inv.args ?? []).map(shellQuote),
    ];
    return words.join(" ");
}

const scriptCache = new Map<string, string>();
/** Read a script shipped beside a component, e.g. readScript(__dirname, "k3s-install.sh"). */
export function readScript(dir: string, file: string): string {
    const full = path.join(dir, "scripts", file);
    let text = scriptCache.get(full);
    if (text === undefined) {
        text = fs.readFileSync(full, "utf8");
        scriptCache.set(full, text);
    }
    return text;
}

export type Connection = command.types.input.remote.ConnectionArgs;

/** SSH settings for hosts that may still be booting: keep dialling for ~10 minutes. */
export const BOOTING_HOST_DIAL = { dialErrorLimit: 60, perDialTimeout: 10 } as const;

export interface RemoteScriptArgs {
    connection: pulumi.Input<Connection>;
    create: Omit<ScriptInvocation, "script" | "name"> & { file: string };
    delete?: Omit<ScriptInvocation, "script" | "name"> & { file: string };
    /** Directory of the component; scripts are read from `<dir>/scripts/`. */
    dir: string;
    /** Secret input for the script, delivered on stdin. */
    stdin?: pulumi.Input<string>;
    /** The stdout carries a secret: never log it and store it encrypted. */
    secretStdout?: boolean;
    triggers?: pulumi.Input<unknown>[];
}

/** A remote.Command running one of kvmesh's scripts. */
export function remoteScript(
    name: string,
    args: RemoteScriptArgs,
    opts: pulumi.CustomResourceOptions,
): command.remote.Command {
    const render = (inv: Omit<ScriptInvocation, "script" | "name"> & { file: string }) =>
        renderScriptCommand({ ...inv, script: readScript(args.dir, inv.file), name: inv.file });
    return new command.remote.Command(
        name,
        {
            connection: args.connection,
            create: render(args.create),
            delete: args.delete ? render(args.delete) : undefined,
            stdin: args.stdin,
            triggers: args.triggers,
            // The previous stdout would otherwise be sent back as PULUMI_COMMAND_STDOUT.
            addPreviousOutputInEnv: false,
            logging: args.secretStdout ? "none" : "stdoutAndStderr",
        },
        {
            ...opts,
            additionalSecretOutputs: args.secretStdout ? ["stdout", "stderr"] : opts.additionalSecretOutputs,
        },
    );
}
