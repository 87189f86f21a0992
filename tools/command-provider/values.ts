/**
 * Property values as the engine sends them (google.protobuf.Struct turned into plain JSON):
 * secrets are `{<sig>: SECRET_SIG, value}` objects, unknowns (preview only) the UNKNOWN string,
 * assets/archives/resource references other `{<sig>: ...}` objects that are compared as opaque
 * values. Pure functions only: the unit tests import this module directly.
 */

export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** The wire form of a value not known during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };
export type PropertyMap = Record<string, Value>;

export function isObject(v: unknown): v is { [key: string]: Value } {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Not a type guard on purpose: a failed check must not narrow plain objects away. */
export function isSecret(v: unknown): boolean {
    return isObject(v) && v[SIG_KEY] === SECRET_SIG;
}

/** The value inside one secret wrapper. */
export function secretValue(v: Value | undefined): Value {
    return (v as { value: Value }).value;
}

export function isUnknown(v: unknown): boolean {
    return v === UNKNOWN;
}

/** Wrap a value as a secret (no double wrapping). */
export function makeSecret(v: Value): Value {
    return isSecret(v) ? v : { [SIG_KEY]: SECRET_SIG, value: v };
}

/** The value with every secret wrapper removed, recursively. */
export function unwrap(v: Value | undefined): Value | undefined {
    if (v === undefined) return undefined;
    if (isSecret(v)) return unwrap(secretValue(v));
    if (Array.isArray(v)) return v.map((e) => unwrap(e) as Value);
    if (isObject(v) && v[SIG_KEY] === undefined) {
        const out: { [key: string]: Value } = {};
        for (const [k, e] of Object.entries(v)) out[k] = unwrap(e) as Value;
        return out;
    }
    return v;
}

export function containsSecrets(v: Value | undefined): boolean {
    if (isSecret(v)) return true;
    if (Array.isArray(v)) return v.some(containsSecrets);
    if (isObject(v)) return Object.values(v).some(containsSecrets);
    return false;
}

export function containsUnknowns(v: Value | undefined): boolean {
    if (isUnknown(v)) return true;
    if (Array.isArray(v)) return v.some(containsUnknowns);
    if (isObject(v)) return Object.values(v).some(containsUnknowns);
    return false;
}

/** null and a missing property mean the same thing on the wire. */
function isAbsent(v: Value | undefined): v is null | undefined {
    return v === undefined || v === null;
}

/** Structural equality; a secret and a plain value never compare equal. */
export function deepEqual(a: Value | undefined, b: Value | undefined): boolean {
    if (isAbsent(a) || isAbsent(b)) return isAbsent(a) && isAbsent(b);
    if (Array.isArray(a) || Array.isArray(b)) {
        if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
        return a.every((e, i) => deepEqual(e, b[i]));
    }
    if (isObject(a) || isObject(b)) {
        if (!isObject(a) || !isObject(b)) return false;
        const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
        for (const k of keys) if (!deepEqual(a[k], b[k])) return false;
        return true;
    }
    return a === b;
}

/** A property path as Pulumi writes them: `a.b`, `a["b.c"]`, `a[0]`. */
export function childPath(parent: string, key: string | number): string {
    if (typeof key === "number") return `${parent}[${key}]`;
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return parent === "" ? key : `${parent}.${key}`;
    return `${parent}[${JSON.stringify(key)}]`;
}

export type DiffKind = "add" | "delete" | "update";

/**
 * The changed leaves between two values, keyed by property path (the shape of
 * plugin.NewDetailedDiffFromObjectDiff): objects and arrays are descended into, secrets too when
 * both sides are secret; a change of secretness, of type, or to an unknown value is an update of
 * the whole value.
 */
export function valueDiff(path: string, olds: Value | undefined, news: Value | undefined): Record<string, DiffKind> {
    const out: Record<string, DiffKind> = {};
    const walk = (p: string, o: Value | undefined, n: Value | undefined): void => {
        if (isAbsent(o) && isAbsent(n)) return;
        if (isAbsent(o)) {
            out[p] = "add";
            return;
        }
        if (isAbsent(n)) {
            out[p] = "delete";
            return;
        }
        if (isUnknown(n)) {
            out[p] = "update";
            return;
        }
        if (isSecret(o) || isSecret(n)) {
            if (isSecret(o) && isSecret(n)) walk(p, secretValue(o), secretValue(n));
            else out[p] = "update";
            return;
        }
        if (Array.isArray(o) && Array.isArray(n)) {
            for (let i = 0; i < Math.max(o.length, n.length); i++) walk(childPath(p, i), o[i], n[i]);
            return;
        }
        if (isObject(o) && isObject(n) && o[SIG_KEY] === undefined && n[SIG_KEY] === undefined) {
            for (const k of new Set([...Object.keys(o), ...Object.keys(n)])) walk(childPath(p, k), o[k], n[k]);
            return;
        }
        if (!deepEqual(o, n)) out[p] = "update";
    };
    walk(path, olds, news);
    return out;
}

/** The top-level property a path belongs to: `triggers[0]` -> `triggers`. */
export function topLevelKey(path: string): string {
    const m = /^([^.[]+)/.exec(path);
    return m ? m[1] : path;
}
