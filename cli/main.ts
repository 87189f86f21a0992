#!/usr/bin/env node
/**
 * kvmesh's command line: the reviewer's risk summary of a preview, and ephemeral environments.
 *   npm run kvmesh -- preview-summary < preview.json
 *   npm run kvmesh -- env up|prepare|list|down|gc ...
 */
import { Command, CommanderError } from "commander";
import * as fs from "fs";
import { EnvError, downEnv, gcEnvs, listEnvs, prepareEnv, upEnv } from "./env";
import { COMMENT_LIMIT, renderSummary } from "./preview-summary";
import { formatDuration } from "./ttl";

export interface CliIo {
    stdout(text: string): void;
    stderr(text: string): void;
    stdin(): string;
}

export function buildCli(io: CliIo): Command {
    const program = new Command("kvmesh")
        .description("kvmesh: preview summaries and ephemeral environments for the kvmesh stack")
        .exitOverride()
        .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
        .showHelpAfterError();

    program
        .command("preview-summary")
        .description("turn `pulumi preview --json` (on stdin) into Markdown for reviewers")
        .option("--limit <chars>", "maximum length of the output", String(COMMENT_LIMIT))
        .option("--events <file>", "the engine's event log (pulumi preview --event-log FILE), for policy violations")
        .action((o: { limit: string; events?: string }) => {
            const text = io.stdin();
            let preview;
            try {
                preview = JSON.parse(text);
            } catch {
                throw new EnvError("stdin is not JSON; pipe `pulumi preview --json` into this command");
            }
            const events = o.events ? fs.readFileSync(o.events, "utf8") : undefined;
            io.stdout(renderSummary(preview, Number(o.limit), events) + "\n");
        });

    const env = program.command("env").description("ephemeral copies of the environment, each with a TTL");
    const emit = (json: boolean, data: unknown, text: string) =>
        io.stdout(json ? JSON.stringify(data, null, 2) + "\n" : text + "\n");
    const progressTo = (json: boolean) => (line: string) =>
        (json ? io.stderr : io.stdout)(line.endsWith("\n") ? line : line + "\n");

    env.command("up")
        .argument("<name>", "environment (stack) name, e.g. pr-123")
        .option("--from <stack>", "template stack whose config is copied", "dev")
        .option("--ttl <duration>", "time to live, e.g. 24h, 7d", "24h")
        .option("--json", "print the result as JSON")
        .description("create or update an environment from a template stack's config and deploy it")
        .action(async (name: string, o: { from: string; ttl: string; json?: boolean }) => {
            const info = await upEnv(name, o.from, o.ttl, { progress: progressTo(Boolean(o.json)) });
            emit(Boolean(o.json), info, `environment ${name} is up; expires ${info.expiresAt}`);
        });

    env.command("prepare")
        .argument("<name>", "environment (stack) name")
        .option("--from <stack>", "template stack whose config is copied", "dev")
        .option("--ttl <duration>", "time to live", "24h")
        .option("--json", "print the result as JSON")
        .description("create or update the environment's stack and config without deploying (for previews)")
        .action(async (name: string, o: { from: string; ttl: string; json?: boolean }) => {
            await prepareEnv(name, o.from, o.ttl, { progress: progressTo(Boolean(o.json)) });
            emit(Boolean(o.json), { name, prepared: true }, `environment ${name} prepared`);
        });

    env.command("list")
        .option("--json", "print the environments as JSON")
        .description("list environments with their age and expiry")
        .action(async (o: { json?: boolean }) => {
            const envs = await listEnvs({ progress: progressTo(Boolean(o.json)) });
            const rows = envs.map((e) =>
                [
                    e.name,
                    e.template ?? "-",
                    e.ageMs === undefined ? "-" : formatDuration(e.ageMs),
                    e.expired
                        ? `expired ${formatDuration(-(e.expiresInMs ?? 0))} ago`
                        : `in ${formatDuration(e.expiresInMs ?? 0)}`,
                    String(e.resources ?? "-"),
                ].join("\t"),
            );
            emit(Boolean(o.json), envs, ["NAME\tTEMPLATE\tAGE\tEXPIRES\tRESOURCES", ...rows].join("\n"));
        });

    env.command("down")
        .argument("<name>", "environment (stack) name")
        .option("--json", "print the result as JSON")
        .description("destroy the environment and remove its stack and config (a missing one is a no-op)")
        .action(async (name: string, o: { json?: boolean }) => {
            const r = await downEnv(name, { progress: progressTo(Boolean(o.json)) });
            emit(Boolean(o.json), r, r.existed ? `environment ${name} removed` : `environment ${name} did not exist`);
        });

    env.command("gc")
        .option("--json", "print the result as JSON")
        .description("tear down every environment whose TTL has passed")
        .action(async (o: { json?: boolean }) => {
            const r = await gcEnvs({ progress: progressTo(Boolean(o.json)) });
            emit(
                Boolean(o.json),
                r,
                `destroyed: ${r.destroyed.join(", ") || "none"}; kept: ${r.kept.join(", ") || "none"}; failed: ${r.failed.map((f) => f.name).join(", ") || "none"}`,
            );
            if (r.failed.length > 0) throw new EnvError(r.failed.map((f) => `${f.name}: ${f.error}`).join("\n"));
        });

    return program;
}

/** Run the CLI; resolves to the process exit code. */
export async function run(argv: string[], io: CliIo = defaultIo()): Promise<number> {
    const program = buildCli(io);
    try {
        await program.parseAsync(argv, { from: "user" });
        return 0;
    } catch (err) {
        if (err instanceof CommanderError) return err.exitCode;
        io.stderr(`kvmesh: ${(err as Error).message}\n`);
        return 1;
    }
}

function defaultIo(): CliIo {
    return {
        stdout: (s) => void process.stdout.write(s),
        stderr: (s) => void process.stderr.write(s),
        stdin: () => fs.readFileSync(0, "utf8"),
    };
}

if (require.main === module) {
    run(process.argv.slice(2)).then((code) => process.exit(code));
}
