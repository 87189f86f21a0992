/** Running command:local:Command commands as child processes of the provider. */
import { spawn } from "child_process";
import * as fs from "fs";

export interface LocalRun {
    /** Program and leading arguments; the command is appended. Default ["/bin/sh", "-c"]. */
    interpreter?: string[];
    command: string;
    /** Working directory; default the provider's (the engine starts it in the program directory). */
    dir?: string;
    env: Record<string, string>;
    stdin?: string;
    onData(stream: "stdout" | "stderr", chunk: Buffer): void;
    signal: AbortSignal;
}

/** Resolves with "" on success, else the failure in Go's os/exec words ("exit status 3"). */
export function runLocal(run: LocalRun): Promise<string> {
    const argv = [
        ...(run.interpreter && run.interpreter.length > 0 ? run.interpreter : ["/bin/sh", "-c"]),
        run.command,
    ];
    const cwd = run.dir ?? process.cwd();
    if (!fs.existsSync(cwd) || !fs.statSync(cwd).isDirectory()) {
        return Promise.resolve(`chdir ${cwd}: no such file or directory`);
    }
    return new Promise((resolve) => {
        const child = spawn(argv[0], argv.slice(1), {
            cwd,
            env: { ...process.env, ...run.env },
            stdio: [run.stdin !== undefined && run.stdin.length > 0 ? "pipe" : "ignore", "pipe", "pipe"],
        });
        let spawnError: Error | undefined;
        const onAbort = () => child.kill("SIGTERM");
        run.signal.addEventListener("abort", onAbort, { once: true });
        child.stdout?.on("data", (d: Buffer) => run.onData("stdout", d));
        child.stderr?.on("data", (d: Buffer) => run.onData("stderr", d));
        child.on("error", (err) => {
            spawnError = err;
        });
        if (child.stdin) {
            child.stdin.on("error", () => {}); // the command may exit without reading stdin (EPIPE)
            child.stdin.end(run.stdin);
        }
        child.on("close", (code, signal) => {
            run.signal.removeEventListener("abort", onAbort);
            if (spawnError) resolve(`fork/exec ${argv[0]}: ${spawnError.message}`);
            else if (signal) resolve(`signal: ${signal}`);
            else if (code !== 0) resolve(`exit status ${code}`);
            else resolve("");
        });
    });
}
