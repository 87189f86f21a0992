/** The CLI's argument handling and TTL arithmetic (no engine needed). */
import { describe, expect, it } from "vitest";
import { checkEnvName, destroyAndRemove } from "../../cli/env";
import { run } from "../../cli/main";
import { expiresAt, formatDuration, isExpired, parseTtl } from "../../cli/ttl";

function capture(stdin = "") {
    const out: string[] = [];
    const err: string[] = [];
    return {
        io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), stdin: () => stdin },
        out,
        err,
    };
}

describe("TTL arithmetic", () => {
    it.each([
        ["90m", 90 * 60_000],
        ["24h", 86_400_000],
        ["7d", 7 * 86_400_000],
        ["1w", 7 * 86_400_000],
        ["1d12h", 36 * 3_600_000],
        ["45s", 45_000],
    ])("parses %s", (text, ms) => expect(parseTtl(text)).toBe(ms));

    it.each(["", "24", "h", "1.5h", "-1h", "24 h", "1y", "0h", "1h0x"])(
        "rejects %j with the accepted forms",
        (text) => {
            expect(() => parseTtl(text)).toThrow(/TTL/);
        },
    );

    it("computes expiry and expiry status at the boundary", () => {
        const created = new Date("2026-11-26T00:00:00Z");
        const exp = expiresAt(created, parseTtl("24h"));
        expect(exp.toISOString()).toBe("2026-11-27T00:00:00.000Z");
        expect(isExpired(exp, new Date("2026-11-26T23:59:59Z"))).toBe(false);
        expect(isExpired(exp, new Date("2026-11-27T00:00:00Z"))).toBe(true);
    });

    it("formats durations for people", () => {
        expect(formatDuration(0)).toBe("0s");
        expect(formatDuration(45_000)).toBe("45s");
        expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000 + 5 * 60_000)).toBe("3d 4h");
        expect(formatDuration(-(2 * 3_600_000 + 5 * 60_000))).toBe("-2h 5m");
    });
});

describe("command line", () => {
    it("prints help for every command and exits 0", async () => {
        for (const args of [
            ["--help"],
            ["env", "--help"],
            ["env", "up", "--help"],
            ["env", "list", "--help"],
            ["env", "down", "--help"],
            ["env", "gc", "--help"],
            ["preview-summary", "--help"],
        ]) {
            const c = capture();
            expect(await run(args, c.io), args.join(" ")).toBe(0);
            expect(c.out.join(""), args.join(" ")).toMatch(/Usage: kvmesh/);
        }
    });

    it("exits non-zero on unknown commands, missing arguments and bad names", async () => {
        const unknown = capture();
        expect(await run(["env", "launch"], unknown.io)).not.toBe(0);
        expect(unknown.err.join("")).toMatch(/unknown command 'launch'/);
        const missing = capture();
        expect(await run(["env", "down"], missing.io)).not.toBe(0);
        expect(missing.err.join("")).toMatch(/missing required argument 'name'/);
        const bad = capture();
        expect(await run(["env", "down", "PR_12"], bad.io)).toBe(1);
        expect(bad.err.join("")).toMatch(/invalid environment name 'PR_12'/);
        const ttl = capture();
        expect(await run(["env", "up", "pr-1", "--ttl", "soon"], ttl.io)).toBe(1);
        expect(ttl.err.join("")).toMatch(/invalid TTL 'soon'/);
    });

    it("refuses non-JSON input to preview-summary", async () => {
        const c = capture("not json");
        expect(await run(["preview-summary"], c.io)).toBe(1);
        expect(c.err.join("")).toMatch(/stdin is not JSON/);
    });

    it("accepts environment names that are valid stack names", () => {
        expect(checkEnvName("pr-123")).toBe("pr-123");
        expect(() => checkEnvName("-x")).toThrow();
        expect(() => checkEnvName("a".repeat(41))).toThrow();
    });
});

describe("tearing an environment down", () => {
    const fake = (outcomes: ("fail" | "locked" | number)[]) => {
        const calls: string[] = [];
        let i = 0;
        let left = 0;
        return {
            calls,
            target: {
                destroy: async () => {
                    const o = outcomes[i++];
                    calls.push("destroy");
                    if (o === "fail") throw new Error("error: update failed\nnode worker-1 unreachable");
                    if (o === "locked") throw new Error("error: the stack is currently locked by 1 lock(s)");
                    left = o;
                },
                remaining: async () => left,
                remove: async () => void calls.push("remove"),
            },
        };
    };
    const opts = { progress: () => undefined, backoffMs: 1 };

    it("retries a destroy that failed part-way, then removes the stack", async () => {
        const f = fake(["fail", 0]);
        expect(await destroyAndRemove("pr-1", f.target, opts)).toBe(2);
        expect(f.calls).toEqual(["destroy", "destroy", "remove"]);
    });

    it("retries while resources remain", async () => {
        const f = fake([2, 0]);
        expect(await destroyAndRemove("pr-1", f.target, opts)).toBe(2);
        expect(f.calls).toEqual(["destroy", "destroy", "remove"]);
    });

    it("never removes a stack that still holds resources", async () => {
        const f = fake(["fail", "fail", 1]);
        await expect(destroyAndRemove("pr-1", f.target, opts)).rejects.toThrow(
            /failed after 3 attempt\(s\); the stack is kept/,
        );
        expect(f.calls).not.toContain("remove");
    });

    it("reports another run's lock instead of retrying", async () => {
        const f = fake(["locked", 0]);
        await expect(destroyAndRemove("pr-1", f.target, opts)).rejects.toThrow(
            /environment 'pr-1' is locked by another run/,
        );
        expect(f.calls).toEqual(["destroy"]);
    });
});
