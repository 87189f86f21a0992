/**
 * Ephemeral environments on the Pulumi Automation API: a stack copied from a template stack's
 * config, with its TTL kept with the stack as stack tags (so `list` and `gc` work from any
 * checkout, against any backend).
 */
import * as path from "path";
import { ConcurrentUpdateError, ConfigMap, LocalWorkspace, Stack, StackNotFoundError } from "@pulumi/pulumi/automation";
import { expiresAt, formatDuration, isExpired, parseTtl } from "./ttl";

/** The Pulumi project the environments are stacks of (this checkout, unless overridden). */
export const PROJECT_DIR = process.env.KVMESH_PROJECT_DIR ?? path.resolve(__dirname, "..");
export const TAG_CREATED = "kvmesh:env-created";
export const TAG_EXPIRES = "kvmesh:env-expires";
export const TAG_TEMPLATE = "kvmesh:env-template";
const ENV_NAME = /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/;

export interface EnvOptions {
    /** Pulumi's own progress goes here (stderr when printing JSON on stdout). */
    progress: (line: string) => void;
    now?: () => Date;
    /** Attempts for a destroy that fails part-way. */
    destroyAttempts?: number;
}

export interface EnvInfo {
    name: string;
    template?: string;
    createdAt?: string;
    expiresAt?: string;
    ageMs?: number;
    expiresInMs?: number;
    expired: boolean;
    resources?: number;
    lastUpdate?: string;
}

export class EnvError extends Error {}

export function checkEnvName(name: string): string {
    if (!ENV_NAME.test(name)) {
        throw new EnvError(
            `invalid environment name '${name}': use lowercase letters, digits and '-' (at most 40), e.g. pr-123`,
        );
    }
    return name;
}

async function workspace(): Promise<LocalWorkspace> {
    return LocalWorkspace.create({ workDir: PROJECT_DIR });
}

async function stackExists(ws: LocalWorkspace, name: string): Promise<boolean> {
    const stacks = await ws.listStacks();
    return stacks.some((s) => s.name === name || s.name.endsWith(`/${name}`));
}

/** `pulumi config --json` shape for setAllConfigJson: structured values stay structured. */
function configJson(config: ConfigMap): string {
    const out: Record<string, { value: string; secret: boolean; objectValue?: unknown }> = {};
    for (const [key, { value, secret }] of Object.entries(config)) {
        let objectValue: unknown;
        if (!secret && /^[[{]/.test(value.trim())) {
            try {
                objectValue = JSON.parse(value);
            } catch {
                objectValue = undefined;
            }
        }
        out[key] = { value, secret: Boolean(secret), ...(objectValue !== undefined ? { objectValue } : {}) };
    }
    return JSON.stringify(out);
}

function explain(err: unknown, name: string): Error {
    if (err instanceof ConcurrentUpdateError) {
        return new EnvError(
            `environment '${name}' is being changed by another run (the stack is locked); wait for it to finish, or if it died, run \`pulumi cancel --stack ${name}\` (Pulumi Cloud) or \`pulumi state unlock\`-style cleanup of the lock`,
        );
    }
    if (err instanceof Error && /locked|lock file|another update/i.test(err.message)) {
        return new EnvError(
            `environment '${name}' is locked by another run: ${err.message.split("\n").find((l) => /lock/i.test(l)) ?? "see above"}`,
        );
    }
    return err instanceof Error ? err : new Error(String(err));
}

/**
 * Create the stack if needed, copy the template's config (secrets re-encrypted for the new
 * stack), and stamp creation time, expiry and template as stack tags. Does not deploy.
 */
export async function prepareEnv(name: string, from: string, ttl: string, opts: EnvOptions): Promise<Stack> {
    checkEnvName(name);
    const ttlMs = parseTtl(ttl);
    const ws = await workspace();
    if (!(await stackExists(ws, from)))
        throw new EnvError(`template stack '${from}' does not exist; create it or pass --from <stack>`);
    const template = await ws.getAllConfig(from);
    const existed = await stackExists(ws, name);
    const stack = existed ? await Stack.select(name, ws) : await Stack.create(name, ws);
    await ws.setAllConfigJson(name, configJson(template));
    const now = (opts.now ?? (() => new Date()))();
    const created = existed ? ((await safeTag(ws, name, TAG_CREATED)) ?? now.toISOString()) : now.toISOString();
    await ws.setTag(name, TAG_CREATED, created);
    await ws.setTag(name, TAG_EXPIRES, expiresAt(now, ttlMs).toISOString());
    await ws.setTag(name, TAG_TEMPLATE, from);
    opts.progress(
        `${existed ? "updated" : "created"} environment ${name} from ${from}, expires in ${formatDuration(ttlMs)}`,
    );
    return stack;
}

async function safeTag(ws: LocalWorkspace, name: string, key: string): Promise<string | undefined> {
    try {
        const tags = await ws.listTags(name);
        return tags[key];
    } catch {
        return undefined;
    }
}

/** prepare + `pulumi up`. */
export async function upEnv(name: string, from: string, ttl: string, opts: EnvOptions): Promise<EnvInfo> {
    const stack = await prepareEnv(name, from, ttl, opts);
    try {
        await stack.up({ onOutput: opts.progress, color: "never" });
    } catch (err) {
        throw explain(err, name);
    }
    return (await describe(await workspace(), name, opts))!;
}

async function describe(ws: LocalWorkspace, name: string, opts: EnvOptions): Promise<EnvInfo | undefined> {
    const tags = await ws.listTags(name).catch(() => ({}) as Record<string, string>);
    if (!tags[TAG_EXPIRES]) return undefined;
    const now = (opts.now ?? (() => new Date()))();
    const expires = new Date(tags[TAG_EXPIRES]);
    const created = tags[TAG_CREATED] ? new Date(tags[TAG_CREATED]) : undefined;
    const summary = (await ws.listStacks()).find((s) => s.name === name || s.name.endsWith(`/${name}`));
    return {
        name,
        template: tags[TAG_TEMPLATE],
        createdAt: created?.toISOString(),
        expiresAt: expires.toISOString(),
        ageMs: created ? now.getTime() - created.getTime() : undefined,
        expiresInMs: expires.getTime() - now.getTime(),
        expired: isExpired(expires, now),
        resources: summary?.resourceCount,
        lastUpdate: summary?.lastUpdate,
    };
}

/** Every stack of this project that carries an environment's expiry tag. */
export async function listEnvs(opts: EnvOptions): Promise<EnvInfo[]> {
    const ws = await workspace();
    const out: EnvInfo[] = [];
    for (const s of await ws.listStacks()) {
        const info = await describe(ws, s.name.split("/").pop()!, opts);
        if (info) out.push(info);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
}

export interface DownResult {
    name: string;
    existed: boolean;
    attempts: number;
}

/**
 * Destroy, retrying a destroy that fails part-way; remove the stack (and its config file) only
 * once its state holds no resources. A missing environment is a no-op.
 */
/** What tearing down needs from a stack; the Automation API's Stack in real use. */
export interface Destroyable {
    destroy(): Promise<void>;
    /** Resources still in the state, not counting the stack itself and providers. */
    remaining(): Promise<number>;
    remove(): Promise<void>;
}

/**
 * Destroy, retrying a destroy that fails part-way (a node that is slow to answer, an API server
 * restarting), and remove the stack only once its state holds no resources. A lock held by
 * another run is not retried: it is reported.
 */
export async function destroyAndRemove(
    name: string,
    target: Destroyable,
    opts: EnvOptions & { backoffMs?: number },
): Promise<number> {
    const max = opts.destroyAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
        let failure: Error | undefined;
        try {
            await target.destroy();
        } catch (err) {
            failure = explain(err, name);
            if (failure instanceof EnvError) throw failure;
        }
        const left = failure ? undefined : await target.remaining();
        if (left === 0) {
            await target.remove();
            return attempt;
        }
        const why = failure ? failure.message.split("\n").slice(-3).join(" ") : `${left} resource(s) remain`;
        if (attempt >= max) {
            throw new EnvError(
                `destroying ${name} failed after ${attempt} attempt(s); the stack is kept so nothing is orphaned: ${why}`,
            );
        }
        opts.progress(`destroy of ${name} incomplete (attempt ${attempt}/${max}: ${why}); retrying`);
        await new Promise((r) => setTimeout(r, (opts.backoffMs ?? 2_000) * attempt));
    }
}

/**
 * Destroy the environment and remove its stack and config; a missing environment is a no-op.
 */
export async function downEnv(name: string, opts: EnvOptions): Promise<DownResult> {
    checkEnvName(name);
    const ws = await workspace();
    if (!(await stackExists(ws, name))) {
        opts.progress(`environment ${name} does not exist; nothing to do`);
        return { name, existed: false, attempts: 0 };
    }
    const stack = await Stack.select(name, ws);
    const attempts = await destroyAndRemove(
        name,
        {
            destroy: async () => void (await stack.destroy({ onOutput: opts.progress, color: "never" })),
            remaining: () => remainingResources(stack),
            remove: () => ws.removeStack(name),
        },
        opts,
    );
    opts.progress(`environment ${name} destroyed and removed`);
    return { name, existed: true, attempts };
}

async function remainingResources(stack: Stack): Promise<number> {
    const state = await stack.exportStack();
    const resources: { type: string }[] = state.deployment?.resources ?? [];
    // After a complete destroy nothing is left, not even the stack resource.
    return resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:")).length;
}

/** Tear down every expired environment; one failure does not stop the others. */
export async function gcEnvs(
    opts: EnvOptions,
): Promise<{ destroyed: string[]; failed: { name: string; error: string }[]; kept: string[] }> {
    const envs = await listEnvs(opts);
    const result = { destroyed: [] as string[], failed: [] as { name: string; error: string }[], kept: [] as string[] };
    for (const env of envs) {
        if (!env.expired) {
            result.kept.push(env.name);
            continue;
        }
        opts.progress(`environment ${env.name} expired ${formatDuration(-(env.expiresInMs ?? 0))} ago; destroying`);
        try {
            await downEnv(env.name, opts);
            result.destroyed.push(env.name);
        } catch (err) {
            result.failed.push({ name: env.name, error: (err as Error).message });
        }
    }
    return result;
}

export { StackNotFoundError };
