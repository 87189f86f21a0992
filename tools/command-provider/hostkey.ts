/**
 * Pinned SSH host keys (`connection.hostKey`) and the dial retry policy. Pure functions: the unit
 * tests import this module directly.
 */
import { createHash } from "crypto";

export interface HostKey {
    /** Key type as written in the key blob, e.g. `ssh-ed25519`. */
    type: string;
    /** The public key blob (what the server sends in the key exchange). */
    blob: Buffer;
}

/**
 * Parse a pinned host key. Accepts an authorized_keys/`.pub` line (`ssh-ed25519 AAAA... comment`)
 * and a known_hosts or `ssh-keyscan` line (`host ssh-ed25519 AAAA...`): the first
 * `<type> <base64>` pair whose blob names the same type wins.
 */
export function parseHostKey(text: string): HostKey {
    for (const line of text.split(/\r?\n/)) {
        const tokens = line.trim().split(/\s+/);
        if (tokens[0]?.startsWith("#")) continue;
        for (let i = 0; i + 1 < tokens.length; i++) {
            const type = tokens[i];
            if (!/^(ssh|ecdsa|sk)-[A-Za-z0-9@.-]+$/.test(type)) continue;
            if (!/^[A-Za-z0-9+/]+={0,2}$/.test(tokens[i + 1])) continue;
            const blob = Buffer.from(tokens[i + 1], "base64");
            if (blob.length < 4) continue;
            const len = blob.readUInt32BE(0);
            if (4 + len > blob.length || blob.subarray(4, 4 + len).toString("latin1") !== type) continue;
            return { type, blob };
        }
    }
    throw new Error("hostKey must be an OpenSSH public key line such as 'ssh-ed25519 AAAA...'");
}

/** OpenSSH-style fingerprint: `SHA256:<unpadded base64>`. */
export function fingerprint(blob: Buffer): string {
    return "SHA256:" + createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}

/**
 * Host key algorithms to offer when a key is pinned, so that a server with several host keys
 * presents the pinned one (undefined: leave the client's defaults).
 */
export function hostKeyAlgorithms(type: string): string[] | undefined {
    switch (type) {
        case "ssh-rsa":
            return ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];
        case "ssh-ed25519":
        case "ecdsa-sha2-nistp256":
        case "ecdsa-sha2-nistp384":
        case "ecdsa-sha2-nistp521":
            return [type];
        default:
            return undefined;
    }
}

/** Defaults of the official provider (and of the SDK's connectionArgsProvideDefaults). */
export const DIAL_ERROR_LIMIT_DEFAULT = 10;
export const PER_DIAL_TIMEOUT_DEFAULT = 15;

/**
 * After `failures` failed dials, may we dial again? dialErrorLimit is the number of failures
 * tolerated (so up to limit+1 attempts); a negative limit means no limit.
 */
export function mayRetry(failures: number, dialErrorLimit: number): boolean {
    return dialErrorLimit < 0 || failures <= dialErrorLimit;
}

/** Pause after a failed dial: 100 ms, growing by 1.5x up to 5 s (pulumi's retry.Until defaults). */
export function retryDelayMs(failures: number): number {
    return Math.min(100 * Math.pow(1.5, Math.max(0, failures - 1)), 5000);
}
