/**
 * Which properties of a resource were Pulumi secrets.
 *
 * @pulumi/policy unwraps secrets before validation policies see a resource's properties, so a
 * policy cannot tell `pulumi.secret(x)` from a plaintext `x`. The engine does send them marked,
 * so this module wraps the SDK's deserializer (pinned version, covered by the engine tests) to
 * record the paths of secret values on the properties object, out of sight of other policies.
 */
const SECRET_PATHS = Symbol.for("kvmesh.secretPaths");
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Paths (e.g. "stringData.password", "stdin") of every secret value in a wire-format object. */
export function findSecretPaths(value: unknown, prefix = ""): string[] {
    if (typeof value !== "object" || value === null) return [];
    const obj = value as Record<string, unknown>;
    if (obj[SIG_KEY] === SECRET_SIG) return [prefix];
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(obj);
    return entries.flatMap(([k, v]) => findSecretPaths(v, prefix ? `${prefix}.${k}` : k));
}

/** Attach secret paths to a properties object (also what unit tests use to mark secrets). */
export function withSecretPaths<T extends object>(props: T, paths: string[]): T {
    Object.defineProperty(props, SECRET_PATHS, { value: paths, enumerable: false, configurable: true });
    return props;
}

const secretPathsOf = (props: object): string[] => (props as Record<symbol, string[]>)[SECRET_PATHS] ?? [];

/** True when the value at `path` is covered by a secret (it, or an object holding it, was one). */
export function isSecretAt(props: object, path: string): boolean {
    return secretPathsOf(props).some((p) => p === "" || p === path || path.startsWith(`${p}.`));
}

/** True when the value at `path`, or anything inside it, is a secret. */
export function holdsSecret(props: object, path: string): boolean {
    return isSecretAt(props, path) || secretPathsOf(props).some((p) => p.startsWith(`${path}.`));
}

/** Paths of the leaf values under `path` that are not covered by a secret. */
export function plaintextLeaves(props: object, path: string, value: unknown): string[] {
    if (value === undefined || value === null || isSecretAt(props, path)) return [];
    if (typeof value !== "object") return [path];
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
        plaintextLeaves(props, `${path}.${k}`, v),
    );
}

let installed = false;
/** Wrap @pulumi/policy's deserializer so validation policies can ask `isSecretAt`. */
export function recordSecretPaths(): void {
    if (installed) return;
    installed = true;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const deserialize = require("@pulumi/policy/deserialize") as {
        deserializeProperties: (struct: { toJavaScript(): unknown }, proxySecrets: boolean) => object;
    };
    const original = deserialize.deserializeProperties;
    deserialize.deserializeProperties = (struct, proxySecrets) =>
        withSecretPaths(original(struct, proxySecrets), findSecretPaths(struct.toJavaScript()));
}
