/**
 * The two resource types: input checking with the official defaults, the diff, the outputs, and
 * typed views of the inputs for running commands. Pure functions: the unit tests import this
 * module directly.
 */
import { DIAL_ERROR_LIMIT_DEFAULT, PER_DIAL_TIMEOUT_DEFAULT, parseHostKey } from "./hostkey";
import {
    DiffKind,
    PropertyMap,
    Value,
    childPath,
    isObject,
    isSecret,
    isUnknown,
    makeSecret,
    secretValue,
    topLevelKey,
    unwrap,
    valueDiff,
} from "./values";

export const REMOTE_COMMAND = "command:remote:Command";
export const LOCAL_COMMAND = "command:local:Command";
export type ResourceType = typeof REMOTE_COMMAND | typeof LOCAL_COMMAND;

const COMMON_INPUTS = [
    "create",
    "update",
    "delete",
    "stdin",
    "environment",
    "triggers",
    "logging",
    "addPreviousOutputInEnv",
];

/** Input properties of each type (outputs are these plus stdout and stderr). */
export const INPUT_KEYS: Record<ResourceType, readonly string[]> = {
    [REMOTE_COMMAND]: ["connection", ...COMMON_INPUTS],
    [LOCAL_COMMAND]: [...COMMON_INPUTS, "dir", "interpreter", "assetPaths", "archivePaths"],
};

export const LOGGING_MODES = ["stdout", "stderr", "stdoutAndStderr", "none"] as const;
export type Logging = (typeof LOGGING_MODES)[number];

export function shouldLog(logging: Logging, stream: "stdout" | "stderr"): boolean {
    return logging === "stdoutAndStderr" || logging === stream;
}

/** `urn:pulumi:stack::project::[parent$]type::name` -> type. */
export function urnType(urn: string): string {
    const parts = urn.split("::");
    const qualified = parts[2] ?? "";
    return qualified.split("$").pop() ?? "";
}

export function urnName(urn: string): string {
    return urn.split("::").slice(3).join("::");
}

export function asResourceType(type: string): ResourceType {
    if (type === REMOTE_COMMAND || type === LOCAL_COMMAND) return type;
    throw new Error(
        `unknown resource type ${JSON.stringify(type)} (this provider implements ${REMOTE_COMMAND} and ${LOCAL_COMMAND})`,
    );
}

export interface CheckFailure {
    property: string;
    reason: string;
}

/** The value inside any secret wrappers. */
function plain(v: Value | undefined): Value | undefined {
    return isSecret(v) ? plain(secretValue(v)) : v;
}

function describe(v: Value | undefined): string {
    if (v === null || v === undefined) return "null";
    if (Array.isArray(v)) return "an array";
    return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

type Kind = "string" | "number" | "integer" | "boolean" | "array" | "object";

/** Type check of a known value; unknowns and absent values pass. */
function expect(failures: CheckFailure[], path: string, value: Value | undefined, kind: Kind): boolean {
    const v = plain(value);
    if (v === undefined || v === null || isUnknown(v)) return true;
    const ok =
        kind === "array"
            ? Array.isArray(v)
            : kind === "object"
              ? isObject(v)
              : kind === "integer"
                ? typeof v === "number" && Number.isInteger(v)
                : typeof v === kind;
    if (!ok)
        failures.push({
            property: path,
            reason: `expected ${kind === "integer" ? "an integer" : `a ${kind}`}, got ${describe(v)}`,
        });
    return ok;
}

const CONNECTION_STRINGS = [
    "user",
    "password",
    "host",
    "privateKey",
    "privateKeyPassword",
    "agentSocketPath",
    "hostKey",
];
const CONNECTION_INTEGERS = ["port", "dialErrorLimit", "perDialTimeout"];

/** connection/proxy with the official defaults filled in; secret wrappers are kept. */
function checkConnection(value: Value, path: string, failures: CheckFailure[], isProxy: boolean): Value {
    if (isUnknown(value)) return value;
    if (isSecret(value)) return makeSecret(checkConnection(secretValue(value), path, failures, isProxy));
    if (!isObject(value)) {
        failures.push({ property: path, reason: `expected an object, got ${describe(value)}` });
        return value;
    }
    const out: { [key: string]: Value } = { ...value };
    const defaults: Record<string, Value> = {
        user: "root",
        port: 22,
        dialErrorLimit: DIAL_ERROR_LIMIT_DEFAULT,
        perDialTimeout: PER_DIAL_TIMEOUT_DEFAULT,
    };
    for (const [k, d] of Object.entries(defaults)) if (out[k] === undefined || out[k] === null) out[k] = d;
    for (const [k, v] of Object.entries(out)) {
        const p = childPath(path, k);
        if (CONNECTION_STRINGS.includes(k)) expect(failures, p, v, "string");
        else if (CONNECTION_INTEGERS.includes(k)) expect(failures, p, v, "integer");
        else if (k === "proxy" && !isProxy) {
            if (v !== null) out[k] = checkConnection(v, p, failures, true);
        } else failures.push({ property: p, reason: "unknown property" });
    }
    if (out.host === undefined || out.host === null)
        failures.push({ property: childPath(path, "host"), reason: "missing required property 'host'" });
    const hostKey = plain(out.hostKey);
    if (typeof hostKey === "string" && !isUnknown(hostKey)) {
        try {
            parseHostKey(hostKey);
        } catch (e) {
            failures.push({ property: childPath(path, "hostKey"), reason: (e as Error).message });
        }
    }
    return out;
}

function checkStringMap(failures: CheckFailure[], path: string, value: Value | undefined): void {
    if (!expect(failures, path, value, "object")) return;
    const v = plain(value);
    if (!isObject(v)) return;
    for (const [k, e] of Object.entries(v)) expect(failures, childPath(path, k), e, "string");
}

function checkStringArray(failures: CheckFailure[], path: string, value: Value | undefined): void {
    if (!expect(failures, path, value, "array")) return;
    const v = plain(value);
    if (!Array.isArray(v)) return;
    v.forEach((e, i) => expect(failures, childPath(path, i), e, "string"));
}

/** Check: validate the inputs and apply the official defaults (addPreviousOutputInEnv, connection). */
export function checkInputs(type: ResourceType, news: PropertyMap): { inputs: PropertyMap; failures: CheckFailure[] } {
    const failures: CheckFailure[] = [];
    const inputs: PropertyMap = { ...news };
    const known = INPUT_KEYS[type];
    for (const k of Object.keys(inputs)) {
        if (!known.includes(k)) failures.push({ property: k, reason: "unknown property" });
    }
    for (const k of ["create", "update", "delete", "stdin", "dir"]) {
        if (known.includes(k)) expect(failures, k, inputs[k], "string");
    }
    checkStringMap(failures, "environment", inputs.environment);
    expect(failures, "triggers", inputs.triggers, "array");
    expect(failures, "addPreviousOutputInEnv", inputs.addPreviousOutputInEnv, "boolean");
    if (type === LOCAL_COMMAND) {
        checkStringArray(failures, "interpreter", inputs.interpreter);
        for (const k of ["assetPaths", "archivePaths"]) {
            if (inputs[k] !== undefined && inputs[k] !== null) {
                failures.push({
                    property: k,
                    reason: "not supported by kvmesh's command provider (tools/command-provider)",
                });
            }
        }
    }
    const logging = plain(inputs.logging);
    if (expect(failures, "logging", inputs.logging, "string") && typeof logging === "string" && !isUnknown(logging)) {
        if (!(LOGGING_MODES as readonly string[]).includes(logging)) {
            failures.push({
                property: "logging",
                reason: `must be one of ${LOGGING_MODES.map((m) => `"${m}"`).join(", ")}`,
            });
        }
    }
    if (inputs.addPreviousOutputInEnv === undefined || inputs.addPreviousOutputInEnv === null) {
        inputs.addPreviousOutputInEnv = true;
    }
    if (type === REMOTE_COMMAND) {
        if (inputs.connection === undefined || inputs.connection === null) {
            failures.push({ property: "connection", reason: "missing required property 'connection'" });
        } else {
            inputs.connection = checkConnection(inputs.connection, "connection", failures, false);
        }
    }
    return { inputs, failures };
}

export interface PropertyChange {
    kind: DiffKind;
    replace: boolean;
}

export interface DiffResult {
    changes: boolean;
    /** Top-level properties whose change forces a replacement. */
    replaces: string[];
    /** Top-level properties that changed. */
    diffs: string[];
    /** Changed property paths (`connection.host`, `triggers[0]`). */
    detailed: Record<string, PropertyChange>;
}

/**
 * Diff old state against new (checked) inputs, over the input properties only. Any change of
 * `triggers` replaces the resource (the official schema marks it replaceOnChanges and the SDK adds
 * `replaceOnChanges: ["triggers[*]"]`); every other change is an update, which runs `update`
 * (or `create` again when there is no `update`).
 */
export function diffInputs(
    type: ResourceType,
    olds: PropertyMap,
    news: PropertyMap,
    ignoreChanges: string[] = [],
): DiffResult {
    const keys = new Set([...INPUT_KEYS[type], ...Object.keys(news)]);
    const n: PropertyMap = { ...news };
    for (const k of ignoreChanges) if (keys.has(k)) n[k] = olds[k];
    // Outputs always hold the connection as a secret: compare like with like.
    if (type === REMOTE_COMMAND && n.connection !== undefined && n.connection !== null) {
        n.connection = makeSecret(n.connection);
    }
    const detailed: Record<string, PropertyChange> = {};
    for (const k of keys) {
        for (const [path, kind] of Object.entries(valueDiff(childPath("", k), olds[k], n[k]))) {
            detailed[path] = { kind, replace: k === "triggers" };
        }
    }
    const paths = Object.keys(detailed);
    const unique = (xs: string[]) => [...new Set(xs)];
    return {
        changes: paths.length > 0,
        replaces: unique(paths.filter((p) => detailed[p].replace).map(topLevelKey)),
        diffs: unique(paths.map(topLevelKey)),
        detailed,
    };
}

/** State = the inputs as given (secretness kept, connection always secret) + stdout + stderr. */
export function buildOutputs(type: ResourceType, inputs: PropertyMap, stdout: Value, stderr: Value): PropertyMap {
    const out: PropertyMap = {};
    for (const k of INPUT_KEYS[type]) {
        const v = inputs[k];
        if (v !== undefined && v !== null) out[k] = v;
    }
    if (type === REMOTE_COMMAND && out.connection !== undefined) out.connection = makeSecret(out.connection);
    out.stdout = stdout;
    out.stderr = stderr;
    return out;
}

/** The input part of a state (for Read). */
export function inputsOf(type: ResourceType, state: PropertyMap): PropertyMap {
    const out: PropertyMap = {};
    for (const k of INPUT_KEYS[type]) if (state[k] !== undefined) out[k] = state[k];
    return out;
}

export interface ConnectionArgs {
    host: string;
    port: number;
    user: string;
    password?: string;
    privateKey?: string;
    privateKeyPassword?: string;
    agentSocketPath?: string;
    dialErrorLimit: number;
    perDialTimeout: number;
    hostKey?: string;
}

export interface RemoteConnectionArgs extends ConnectionArgs {
    proxy?: ConnectionArgs;
}

export interface CommandArgs {
    create?: string;
    update?: string;
    delete?: string;
    stdin?: string;
    environment: Record<string, string>;
    logging: Logging;
    addPreviousOutputInEnv: boolean;
    /** Which command inputs were secret (their text is kept out of error messages). */
    secretCommands: Set<string>;
    /** Remote only. */
    connection?: RemoteConnectionArgs;
    /** Local only. */
    dir?: string;
    interpreter?: string[];
}

function str(v: Value | undefined): string | undefined {
    return typeof v === "string" ? v : undefined;
}

function num(v: Value | undefined, dflt: number): number {
    return typeof v === "number" ? v : dflt;
}

function connectionArgs(v: Value | undefined): ConnectionArgs {
    const c = isObject(v) ? v : {};
    return {
        host: str(c.host) ?? "",
        port: num(c.port, 22),
        user: str(c.user) ?? "root",
        password: str(c.password),
        privateKey: str(c.privateKey),
        privateKeyPassword: str(c.privateKeyPassword),
        agentSocketPath: str(c.agentSocketPath),
        dialErrorLimit: num(c.dialErrorLimit, DIAL_ERROR_LIMIT_DEFAULT),
        perDialTimeout: num(c.perDialTimeout, PER_DIAL_TIMEOUT_DEFAULT),
        hostKey: str(c.hostKey),
    };
}

/** Typed, secret-free view of inputs or state, for running commands. */
export function commandArgs(type: ResourceType, props: PropertyMap): CommandArgs {
    const p = unwrap(props) as { [key: string]: Value };
    const env: Record<string, string> = {};
    if (isObject(p.environment)) {
        for (const [k, v] of Object.entries(p.environment)) if (typeof v === "string") env[k] = v;
    }
    const logging = (LOGGING_MODES as readonly string[]).includes(p.logging as string)
        ? (p.logging as Logging)
        : "stdoutAndStderr";
    const args: CommandArgs = {
        create: str(p.create),
        update: str(p.update),
        delete: str(p.delete),
        stdin: str(p.stdin),
        environment: env,
        logging,
        addPreviousOutputInEnv: p.addPreviousOutputInEnv !== false,
        secretCommands: new Set(["create", "update", "delete"].filter((k) => isSecret(props[k]))),
    };
    if (type === REMOTE_COMMAND) {
        const c = isObject(p.connection) ? p.connection : {};
        args.connection = { ...connectionArgs(c), proxy: isObject(c.proxy) ? connectionArgs(c.proxy) : undefined };
    } else {
        args.dir = str(p.dir);
        args.interpreter = Array.isArray(p.interpreter)
            ? p.interpreter.filter((x): x is string => typeof x === "string")
            : undefined;
    }
    return args;
}
