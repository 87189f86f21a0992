/**
 * What validation policies cannot see through @pulumi/policy's API, recorded from what the
 * engine does send (both hooks wrap pinned dependencies and are covered by the engine tests):
 *  - which properties were Pulumi secrets: the SDK unwraps them before policies run, so this
 *    wraps its deserializer and records the secret paths on the properties object;
 *  - the stack's config and which keys are secret: the engine sends them in ConfigureStack,
 *    of which @pulumi/policy keeps only the tags.
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

export interface StackConfig {
    /** Every config value of the stack being previewed, e.g. "kvmesh:nodes" -> JSON text. */
    values: Record<string, string>;
    secretKeys: string[];
}

let stackConfig: StackConfig = { values: {}, secretKeys: [] };

export function currentStackConfig(): StackConfig {
    return stackConfig;
}

/** For unit tests: the config a policy sees. */
export function setStackConfig(config: StackConfig): void {
    stackConfig = config;
}

/**
 * Every plaintext (non-secret) config string, including strings nested in structured values,
 * with the key it came from. Short strings (booleans, sizes) would only produce noise.
 */
export function plaintextConfigValues(config: StackConfig, minLength = 6): Map<string, string> {
    const out = new Map<string, string>();
    const visit = (key: string, v: unknown) => {
        if (typeof v === "string") {
            if (v.length >= minLength) out.set(v, key);
        } else if (v && typeof v === "object") {
            for (const [k, x] of Object.entries(v)) visit(`${key}.${k}`, x);
        }
    };
    for (const [key, text] of Object.entries(config.values)) {
        if (config.secretKeys.includes(key)) continue;
        let parsed: unknown = text;
        try {
            parsed = JSON.parse(text);
        } catch {
            parsed = text;
        }
        visit(key, parsed);
    }
    return out;
}

let configHooked = false;
/** Capture ConfigureStack's config before @pulumi/policy's handler drops it. */
export function recordStackConfig(): void {
    if (configHooked) return;
    configHooked = true;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const grpc = require("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
    const addService = grpc.Server.prototype.addService;
    grpc.Server.prototype.addService = function (service, implementation) {
        type ConfigureCall = { request: { getConfigMap(): Map<string, string>; getConfigSecretKeysList(): string[] } };
        const configure = implementation.configureStack as ((call: ConfigureCall, cb: unknown) => void) | undefined;
        if (configure) {
            implementation = {
                ...implementation,
                configureStack: (call: ConfigureCall, callback: unknown) => {
                    const values: Record<string, string> = {};
                    call.request.getConfigMap().forEach((v: string, k: string) => (values[k] = v));
                    stackConfig = { values, secretKeys: call.request.getConfigSecretKeysList() };
                    configure(call, callback);
                },
            };
        }
        return addService.call(this, service, implementation);
    };
}
