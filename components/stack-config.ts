/**
 * Reads the `kvmesh:*` stack config once, validates it (before any resource is registered)
 * and hands out typed values plus the secrets as Pulumi secret Outputs.
 */
import { createHmac } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
    CONFIG_NAMESPACE,
    ConfigProblem,
    ConfigValidationError,
    RawStackConfig,
    SECRET_KEYS,
    SecretKey,
    StackConfig,
    formatProblems,
    parseStackConfig,
} from "./config";

export interface StackSecrets {
    sshPrivateKey?: pulumi.Output<string>;
    kubeconfig?: pulumi.Output<string>;
    grafanaAdminPassword?: pulumi.Output<string>;
}

export interface LoadedConfig {
    config: StackConfig;
    secrets: StackSecrets;
}

/** Everything under `kvmesh:` in the stack config, plus which values Pulumi holds as secrets. */
export interface ConfigSource {
    values: Record<string, string>;
    isSecret: (key: string) => boolean;
    /** Resolve relative file paths (ssh.privateKeyFile) against this directory. */
    baseDir: string;
}

// Exported by the SDK's runtime but not typed; it reads the secret keys the engine passes in.
const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };

export function pulumiConfigSource(): ConfigSource {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (key.startsWith(prefix)) values[key.slice(prefix.length)] = value;
    }
    return {
        values,
        isSecret: (key) => runtime.isConfigSecret?.(`${prefix}${key}`) ?? true,
        baseDir: process.cwd(),
    };
}

function parseValue(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/** Validate the config; throws a pulumi.RunError listing every problem (no stack trace). */
export function loadStackConfig(source: ConfigSource = pulumiConfigSource()): LoadedConfig {
    const early: ConfigProblem[] = [];
    const values: Record<string, unknown> = {};
    const secretText: Partial<Record<SecretKey, string>> = {};
    for (const [key, text] of Object.entries(source.values)) {
        if ((SECRET_KEYS as readonly string[]).includes(key)) {
            if (!source.isSecret(key)) {
                early.push({
                    path: `${CONFIG_NAMESPACE}:${key}`,
                    message: `is stored in plaintext in the stack config; remove it and set it again with \`pulumi config set --secret ${CONFIG_NAMESPACE}:${key}\``,
                });
            }
            secretText[key as SecretKey] = text;
            values[key] = true;
        } else {
            values[key] = parseValue(text);
        }
    }

    // Key files are alternatives to kvmesh:sshPrivateKey and ssh.publicKey.
    const ssh = values.ssh as { privateKeyFile?: unknown; publicKeyFile?: unknown; publicKey?: unknown } | undefined;
    const readKeyFile = (field: "privateKeyFile" | "publicKeyFile"): string | undefined => {
        const file = path.resolve(source.baseDir, String(ssh?.[field]));
        if (fs.existsSync(file)) return fs.readFileSync(file, "utf8");
        early.push({
            path: `${CONFIG_NAMESPACE}:ssh.${field}`,
            message: `${file} does not exist; point it at your key file or set the key in the config instead`,
        });
        return undefined;
    };
    if (typeof ssh?.privateKeyFile === "string" && secretText.sshPrivateKey === undefined) {
        secretText.sshPrivateKey = readKeyFile("privateKeyFile");
        if (secretText.sshPrivateKey === undefined) delete secretText.sshPrivateKey;
    }
    if (typeof ssh?.publicKeyFile === "string" && ssh.publicKey === undefined) {
        const key = readKeyFile("publicKeyFile");
        if (key !== undefined) values.ssh = { ...ssh, publicKey: key.trim() };
    }

    const raw: RawStackConfig = {
        values,
        secretsPresent: Object.fromEntries(Object.keys(secretText).map((k) => [k, true])),
    };
    let config: StackConfig | undefined;
    let problems = early;
    try {
        config = parseStackConfig(raw);
    } catch (err) {
        if (!(err instanceof ConfigValidationError)) throw err;
        problems = [...early, ...err.problems];
    }
    if (problems.length > 0 || !config) throw new pulumi.RunError(formatProblems(problems));

    const secret = (key: SecretKey) =>
        secretText[key] === undefined ? undefined : pulumi.secret(secretText[key] as string);
    return {
        config,
        secrets: {
            sshPrivateKey: secret("sshPrivateKey"),
            kubeconfig: secret("kubeconfig"),
            grafanaAdminPassword: secret("grafanaAdminPassword"),
        },
    };
}

/**
 * A password derived from a secret the stack already holds (HMAC-SHA256, keyed by that
 * secret), so none has to be invented at random on every run. Stable while the key is;
 * set kvmesh:grafanaAdminPassword to choose your own.
 */
export function derivePassword(key: pulumi.Input<string>, purpose: string): pulumi.Output<string> {
    return pulumi.secret(
        pulumi
            .output(key)
            .apply((k) => createHmac("sha256", k).update(`kvmesh/${purpose}`).digest("base64url").slice(0, 24)),
    );
}
