/** Time-to-live arithmetic for ephemeral environments. Pure functions. */

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "90m", "24h", "7d", "1w", "1d12h" -> milliseconds; throws with the accepted forms. */
export function parseTtl(text: string): number {
    const parts = [...text.matchAll(/(\d+)([smhdw])/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) {
        throw new Error(`invalid TTL '${text}': use a number and unit, e.g. 90m, 24h, 7d, 1w or 1d12h`);
    }
    const ms = parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNITS[unit], 0);
    if (ms <= 0) throw new Error(`invalid TTL '${text}': it must be longer than zero`);
    return ms;
}

export function expiresAt(createdOrRenewed: Date, ttlMs: number): Date {
    return new Date(createdOrRenewed.getTime() + ttlMs);
}

export function isExpired(expires: Date, now: Date): boolean {
    return expires.getTime() <= now.getTime();
}

/** A short human duration: "3d 4h", "2h 5m", "45s"; negative durations read "-...". */
export function formatDuration(ms: number): string {
    const sign = ms < 0 ? "-" : "";
    let rest = Math.floor(Math.abs(ms) / 1000);
    const fields: [string, number][] = [
        ["d", 86_400],
        ["h", 3_600],
        ["m", 60],
        ["s", 1],
    ];
    const out: string[] = [];
    for (const [unit, size] of fields) {
        const n = Math.floor(rest / size);
        rest -= n * size;
        if (n > 0 || (unit === "s" && out.length === 0)) out.push(`${n}${unit}`);
        if (out.length === 2) break;
    }
    return sign + out.join(" ");
}
