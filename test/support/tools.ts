/** Real tools the validator tests run. A missing tool fails the test: it never skips. */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { inject } from "vitest";

export function requireTool(name: string, installHint: string): string {
    const found = spawnSync("bash", ["-c", `command -v ${name}`], { encoding: "utf8" });
    if (found.status !== 0) throw new Error(`${name} is not installed; ${installHint} (.ci/run installs it)`);
    return found.stdout.trim();
}

export interface RunResult {
    status: number;
    stdout: string;
    stderr: string;
}

export function run(
    cmd: string,
    args: string[],
    opts: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): RunResult {
    const r = spawnSync(cmd, args, {
        encoding: "utf8",
        input: opts.input,
        cwd: opts.cwd,
        env: opts.env,
        maxBuffer: 64 * 1024 * 1024,
    });
    if (r.error) throw r.error;
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `kvmesh-${prefix}-`));
}

/** Split a shell word list (as kvmesh renders it) with bash itself. */
export function shellWords(text: string): string[] {
    const out = execFileSync("bash", ["-c", `printf '%s\\0' ${text}`], { encoding: "utf8" });
    return out.split("\0").slice(0, -1);
}

/** The environment prefix of a rendered script command, decoded by bash. */
export function commandEnv(command: string): Record<string, string> {
    const head = command.slice(0, command.indexOf(" bash -c "));
    const words = shellWords(head.replace(/^sudo env /, ""));
    return Object.fromEntries(words.map((w) => [w.slice(0, w.indexOf("=")), w.slice(w.indexOf("=") + 1)]));
}

/** The positional arguments after the script name in a rendered script command. */
export function commandArgs(command: string, scriptName: string): string[] {
    const marker = ` ${scriptName} `;
    const at = command.lastIndexOf(marker);
    if (at < 0) return [];
    return shellWords(command.slice(at + marker.length));
}

/** A binary from a tools/ group that the global setup built or found cached. */
export function toolBinary(group: string, binary: string): string {
    const dir = inject("toolBins")[group];
    if (!dir) throw new Error(`tool group ${group} is not in TEST_TOOL_GROUPS (test/support/global-setup.ts)`);
    const file = path.join(dir, binary);
    if (!fs.existsSync(file)) throw new Error(`${file} is missing; the ${group} build is incomplete`);
    return file;
}
