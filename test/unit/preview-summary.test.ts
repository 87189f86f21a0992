/**
 * The reviewer's risk summary on previews recorded from the real engine (scripts/record-previews.ts:
 * the dev stack, then one config change per scenario).
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { COMMENT_LIMIT, Risk, countOperations, findRisks, renderSummary } from "../../cli/preview-summary";
import { ROOT } from "../fixtures/configs";

const recorded = (name: string) =>
    JSON.parse(fs.readFileSync(path.join(ROOT, "test", "fixtures", "previews", `${name}.json`), "utf8"));
const risks = (name: string) =>
    findRisks(recorded(name))
        .map((r: Risk) => `${r.kind} ${r.resource}: ${r.detail}`)
        .sort();

describe("risk rules on recorded previews", () => {
    it("flags nothing when nothing or something harmless changes", () => {
        expect(risks("no-change")).toEqual([]);
        expect(risks("prometheus-retention")).toEqual([]);
        expect(countOperations(recorded("prometheus-retention"))).toEqual({ same: 63, update: 1 });
    });

    it("shows canary weights old -> new", () => {
        expect(risks("canary-50-50")).toEqual(["canary-shift mesh-vs-default-my-app-route: v1 90 -> 50, v2 10 -> 50"]);
    });

    it("flags mTLS weakened from STRICT, mesh-wide and per namespace", () => {
        expect(risks("mtls-permissive-migration")).toEqual([
            "mtls-weakened mesh-mtls-default: STRICT -> PERMISSIVE",
            "mtls-weakened mesh-mtls-mesh: STRICT -> PERMISSIVE",
        ]);
    });

    it("flags loosened circuit breakers with the numbers", () => {
        expect(risks("circuit-breaker-loosened")).toEqual([
            "circuit-breaker-loosened mesh-dr-default-my-app: maxConnections 100 -> 1000, consecutive5xxErrors 3 -> 10",
            "circuit-breaker-loosened mesh-dr-default-payment-service: maxConnections 100 -> 1000, consecutive5xxErrors 3 -> 10",
        ]);
    });

    it("flags a rebuilt VM and its root disk, but not its data volume, for a bigger root disk", () => {
        const found = risks("worker-root-disk-bigger");
        expect(found).toHaveLength(2);
        expect(found[0]).toMatch(/^data-loss worker-1-domain: VM replaced/);
        expect(found[1]).toMatch(/^data-loss worker-1-root: root disk replaced/);
    });

    it("flags a replaced NVMe data volume as data loss", () => {
        expect(risks("worker-data-volume-resized")).toEqual(
            expect.arrayContaining([expect.stringMatching(/^data-loss worker-1-data: NVMe data volume replaced/)]),
        );
    });

    it("flags a replaced control-plane server", () => {
        expect(risks("server-memory-raised")).toEqual([
            expect.stringMatching(/^control-plane cluster-cp-1-k3s: k3s server replaced/),
            expect.stringMatching(/^data-loss cp-1-domain: VM replaced/),
        ]);
        expect(countOperations(recorded("server-memory-raised"))).toEqual({ replace: 4, same: 60 });
    });

    it("flags a removed node's VM and volumes as deleted", () => {
        const found = risks("worker-removed");
        expect(found.filter((r) => r.startsWith("data-loss worker-2-"))).toHaveLength(3);
        expect(found.join("\n")).toMatch(/worker-2-data: NVMe data volume deleted/);
        expect(found).toContain(
            "node-leaves cluster-worker-2-member: worker-2 is drained and deleted from the cluster (a server also leaves etcd); pods on its local-path volumes cannot move and their data goes with it",
        );
    });

    it("flags no node leaving when the whole cluster goes (destroy skips the drains)", () => {
        const preview = recorded("worker-removed");
        // As in a destroy preview: the first server's credentials step is deleted too.
        const member = preview.steps.find((s: any) => s.urn.endsWith("::cluster-worker-2-member"));
        expect(findRisks(preview).filter((r: Risk) => r.kind === "node-leaves")).toHaveLength(1);
        preview.steps.push({
            op: "delete",
            urn: member.urn.replace(/cluster-worker-2-member$/, "cluster-credentials"),
        });
        expect(findRisks(preview).filter((r: Risk) => r.kind === "node-leaves")).toEqual([]);
    });

    it("flags a k3s version change on every node", () => {
        expect(risks("k3s-patch-changed")).toEqual(
            ["cluster-cp-1-k3s", "cluster-worker-1-k3s", "cluster-worker-2-k3s"].map(
                (n) => `version-change ${n}: k3s v1.29.15+k3s1 -> v1.29.14+k3s1`,
            ),
        );
    });
});

describe("the Markdown", () => {
    it("leads with counts, then the risks, then every change", () => {
        const md = renderSummary(recorded("worker-removed"));
        expect(md.indexOf("| operation | resources |")).toBeLessThan(md.indexOf("flagged risk"));
        expect(md.indexOf("flagged risk")).toBeLessThan(md.indexOf("### Changes"));
        expect(md).toContain("| delete | 10 |");
        expect(md).toMatch(/\| delete \| `command:remote:Command` \| worker-2-data \|/);
    });

    it("never prints a property value that could be a secret", () => {
        const preview = recorded("canary-50-50");
        // Plant secret-looking values where the engine would have put [secret]: the summary reads
        // only names, operations, numbers, modes and versions, so none can appear.
        for (const step of preview.steps) {
            if (step.newState?.inputs) step.newState.inputs.stdin = "PLANTED-SECRET-1";
            if (step.oldState?.inputs) step.oldState.inputs.stringData = { password: "PLANTED-SECRET-2" };
        }
        const md = renderSummary(preview);
        expect(md).not.toContain("PLANTED-SECRET");
        for (const name of ["server-memory-raised", "worker-removed", "k3s-patch-changed"]) {
            const text = renderSummary(recorded(name));
            expect(text).not.toMatch(/\[secret\]|BEGIN .*PRIVATE KEY|client-key-data/);
        }
    });

    it("stays under the PR comment limit, with a notice, keeping the risks", () => {
        expect(COMMENT_LIMIT).toBe(65_536);
        const full = renderSummary(recorded("worker-removed"));
        const cut = renderSummary(recorded("worker-removed"), 900);
        expect(full.length).toBeGreaterThan(900);
        expect(cut.length).toBeLessThanOrEqual(900);
        expect(cut).toMatch(/\*\*Truncated:\*\* \d+ more line\(s\) omitted/);
        expect(cut).toContain("`worker-2-data`: NVMe data volume deleted");
        // A huge plan (the server-memory preview, many times over) still fits the default limit.
        const big = recorded("server-memory-raised");
        big.steps = Array.from({ length: 1000 }, () => big.steps)
            .flat()
            .map((s: any, i: number) => ({ ...s, urn: `${s.urn}-${i}` }));
        const text = renderSummary(big);
        expect(text.length).toBeLessThanOrEqual(COMMENT_LIMIT);
        expect(text).toContain("Truncated");
    });
});

describe("policy violations from the engine's event log", () => {
    const events = fs.readFileSync(
        path.join(ROOT, "test", "fixtures", "previews", "other-team.policy-events.jsonl"),
        "utf8",
    );

    it("lists each violation with its policy and level, mandatory first", () => {
        const found = findRisks({ steps: [] }, events);
        expect(found.map((r) => r.kind)).toEqual(["policy", "policy", "policy", "policy"]);
        expect(found.map((r) => `${r.resource} ${r.detail.split(":")[0]}`).sort()).toEqual([
            "db kvmesh-secret-data-is-secret (mandatory)",
            "install-key kvmesh-command-secret-logging (mandatory)",
            "permissive kvmesh-mtls-strict (mandatory)",
            "reviews-route kvmesh-canary-routes (mandatory)",
        ]);
        expect(found.find((r) => r.resource === "reviews-route")?.detail).toMatch(/weights 80\+10 sum to 90, not 100/);
    });

    it("puts them first in the Markdown", () => {
        const md = renderSummary(recorded("canary-50-50"), COMMENT_LIMIT, events);
        expect(md.indexOf("**Policy violations**")).toBeLessThan(md.indexOf("**Canary weights shifted**"));
        expect(md).not.toContain("typed-in-plaintext");
    });
});
