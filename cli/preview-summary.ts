/**
 * Turns `pulumi preview --json` into Markdown a reviewer can act on: counts per operation,
 * then the risks kvmesh knows about, first. Pure function of the JSON; it prints only names,
 * operations, numbers, modes and versions, never property values that could hold a secret.
 */

/** The engine's preview JSON is untyped; rules read it defensively. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface PreviewStep {
    op: string;
    urn: string;
    oldState?: { type?: string; inputs?: Json; outputs?: Json };
    newState?: { type?: string; inputs?: Json; outputs?: Json };
    diffReasons?: string[];
    replaceReasons?: string[];
}

export interface PreviewJson {
    steps?: PreviewStep[];
    changeSummary?: Record<string, number>;
    diagnostics?: { severity?: string; message?: string; urn?: string }[];
}

export type RiskKind =
    | "data-loss"
    | "node-leaves"
    | "control-plane"
    | "mtls-weakened"
    | "circuit-breaker-loosened"
    | "canary-shift"
    | "version-change"
    | "policy";

export interface Risk {
    kind: RiskKind;
    resource: string;
    detail: string;
}

/** GitHub's limit for a PR comment body. */
export const COMMENT_LIMIT = 65_536;

const REPLACING = new Set(["replace", "create-replacement", "delete-replaced"]);
const DELETING = new Set(["delete", "delete-replaced", "discard", "discard-replaced"]);
const LABELS: Record<RiskKind, string> = {
    policy: "Policy violations",
    "data-loss": "Data loss",
    "node-leaves": "Nodes leaving the cluster",
    "control-plane": "Control plane",
    "mtls-weakened": "mTLS weakened",
    "circuit-breaker-loosened": "Circuit breaker loosened",
    "canary-shift": "Canary weights shifted",
    "version-change": "Version change",
};

/** `urn:pulumi:stack::project::parent$type::name` -> { type, name, parents } */
export function parseUrn(urn: string): { type: string; name: string; parents: string[] } {
    const parts = urn.split("::");
    const name = parts.slice(3).join("::");
    const chain = (parts[2] ?? "").split("$");
    return { type: chain[chain.length - 1], name, parents: chain.slice(0, -1) };
}

const get = (obj: unknown, path: string[]): Json =>
    path.reduce<Json>((o, k) => (o && typeof o === "object" ? o[k] : undefined), obj);
const inputsOf = (s?: PreviewStep["oldState"]) => s?.inputs ?? s?.outputs;
/** An env value from a rendered script command, e.g. K3S_VERSION; never used for secrets. */
function envValue(command: unknown, key: string): string | undefined {
    if (typeof command !== "string") return undefined;
    const m = new RegExp(`(?:^|\\s)${key}=('([^']*)'|[^\\s']+)`).exec(command);
    return m ? (m[2] ?? m[1]) : undefined;
}

/** One step per resource: the summarising `replace` wins over its create/delete halves. */
function collapse(steps: PreviewStep[]): PreviewStep[] {
    const byUrn = new Map<string, PreviewStep>();
    for (const step of steps) {
        const prev = byUrn.get(step.urn);
        if (!prev || step.op === "replace") {
            byUrn.set(step.urn, prev && !step.oldState ? { ...step, oldState: prev.oldState } : step);
        } else if (REPLACING.has(prev.op) && REPLACING.has(step.op)) {
            byUrn.set(step.urn, {
                ...prev,
                op: "replace",
                oldState: prev.oldState ?? step.oldState,
                newState: prev.newState ?? step.newState,
            });
        }
    }
    return [...byUrn.values()];
}

/**
 * Policy violations. `pulumi preview --json` leaves them out; the engine's event log
 * (`--event-log FILE`, one JSON event per line) has them as `policyEvent`s.
 */
export function policyRisks(eventsJsonl = ""): Risk[] {
    const out: Risk[] = [];
    for (const line of eventsJsonl.split("\n")) {
        if (!line.includes("policyEvent")) continue;
        let event: Json;
        try {
            event = JSON.parse(line).policyEvent;
        } catch {
            continue;
        }
        if (!event) continue;
        const message =
            String(event.message ?? "")
                .trim()
                .split("\n")
                .pop() ?? "";
        out.push({
            kind: "policy",
            resource: event.resourceUrn ? parseUrn(event.resourceUrn).name : "stack",
            detail: `${event.policyName} (${event.enforcementLevel}): ${message.slice(0, 300)}`,
        });
    }
    // Mandatory violations first: they block the update.
    return out.sort((a, b) => Number(!a.detail.includes("(mandatory)")) - Number(!b.detail.includes("(mandatory)")));
}

export function findRisks(preview: PreviewJson, events?: string): Risk[] {
    const risks: Risk[] = [];
    const clusterGoes = (preview.steps ?? []).some(
        (s) => s.op === "delete" && /-credentials$/.test(parseUrn(s.urn).name),
    );
    for (const step of collapse(preview.steps ?? [])) {
        const { type, name, parents } = parseUrn(step.urn);
        const replaced = REPLACING.has(step.op);
        const deleted = DELETING.has(step.op) || step.op === "delete";
        const gone = replaced || deleted;
        const verb = replaced ? "replaced" : "deleted";
        const oldIn = inputsOf(step.oldState);
        const newIn = inputsOf(step.newState);

        // Machines and their disks.
        const onNode = parents.some((p) => p === "kvmesh:nodes:KvmNode" || p === "kvmesh:nodes:ExistingNode");
        if (gone && onNode && type === "command:remote:Command") {
            if (/-data$/.test(name))
                risks.push({
                    kind: "data-loss",
                    resource: name,
                    detail: `NVMe data volume ${verb}: etcd, images and PVs on it are lost`,
                });
            else if (/-domain$/.test(name)) {
                const back = replaced ? " and comes back from a fresh root disk" : "";
                risks.push({ kind: "data-loss", resource: name, detail: `VM ${verb}: the node goes down${back}` });
            } else if (/-root$/.test(name)) {
                const detail = `root disk ${verb}: anything written outside the data volume is lost`;
                risks.push({ kind: "data-loss", resource: name, detail });
            }
        }
        if (gone && type === "kubernetes:core/v1:PersistentVolumeClaim") {
            risks.push({ kind: "data-loss", resource: name, detail: `PersistentVolumeClaim ${verb}` });
        }
        if (
            gone &&
            type === "kubernetes:apps/v1:StatefulSet" &&
            (get(oldIn, ["spec", "volumeClaimTemplates"]) ?? []).length > 0
        ) {
            risks.push({
                kind: "data-loss",
                resource: name,
                detail: `StatefulSet with volume claims ${verb}; check its PVCs`,
            });
        }

        // A node taken out of a cluster that stays (its membership step, run on the first server;
        // when the whole cluster goes, the step is skipped with it and nothing is drained).
        if (step.op === "delete" && type === "command:remote:Command" && /-member$/.test(name) && !clusterGoes) {
            const node = envValue(get(oldIn, ["delete"]), "NODE_NAME") ?? name;
            const detail =
                `${node} is drained and deleted from the cluster (a server also leaves etcd); ` +
                "pods on its local-path volumes cannot move and their data goes with it";
            risks.push({ kind: "node-leaves", resource: name, detail });
        }

        // k3s servers.
        if (type === "command:remote:Command" && /-k3s$/.test(name)) {
            const role = envValue(get(oldIn, ["create"]), "ROLE") ?? envValue(get(newIn, ["create"]), "ROLE");
            if (gone && role === "server")
                risks.push({ kind: "control-plane", resource: name, detail: `k3s server ${verb}` });
            const [from, to] = [
                envValue(get(oldIn, ["create"]), "K3S_VERSION"),
                envValue(get(newIn, ["create"]), "K3S_VERSION"),
            ];
            if (from && to && from !== to)
                risks.push({ kind: "version-change", resource: name, detail: `k3s ${from} -> ${to}` });
        }

        const kind = get(newIn ?? oldIn, ["kind"]);
        // mTLS.
        if (
            kind === "PeerAuthentication" &&
            String(get(newIn ?? oldIn, ["apiVersion"])).startsWith("security.istio.io")
        ) {
            const from = get(oldIn, ["spec", "mtls", "mode"]);
            const to = deleted && !replaced ? "deleted" : (get(newIn, ["spec", "mtls", "mode"]) ?? "UNSET");
            if (from === "STRICT" && to !== "STRICT" && step.op !== "same" && step.op !== "create") {
                risks.push({ kind: "mtls-weakened", resource: name, detail: `STRICT -> ${to}` });
            }
        }

        // Circuit breakers: more connections/pending/requests allowed, later or smaller ejection.
        if (kind === "DestinationRule" && oldIn && step.op !== "same" && step.op !== "create") {
            const tp = (s: unknown) => get(s, ["spec", "trafficPolicy"]);
            const looser: string[] = [];
            const num = (s: unknown, path: string[]) => get(tp(s), path);
            const higher = (label: string, path: string[]) => {
                const [a, b] = [num(oldIn, path), deleted ? undefined : num(newIn, path)];
                if (typeof a === "number" && (b === undefined || (typeof b === "number" && b > a)))
                    looser.push(`${label} ${a} -> ${b ?? "unset"}`);
            };
            const lower = (label: string, path: string[]) => {
                const [a, b] = [num(oldIn, path), deleted ? undefined : num(newIn, path)];
                if (typeof a === "number" && (b === undefined || (typeof b === "number" && b < a)))
                    looser.push(`${label} ${a} -> ${b ?? "unset"}`);
            };
            higher("maxConnections", ["connectionPool", "tcp", "maxConnections"]);
            higher("http1MaxPendingRequests", ["connectionPool", "http", "http1MaxPendingRequests"]);
            higher("maxRequestsPerConnection", ["connectionPool", "http", "maxRequestsPerConnection"]);
            higher("consecutive5xxErrors", ["outlierDetection", "consecutive5xxErrors"]);
            lower("maxEjectionPercent", ["outlierDetection", "maxEjectionPercent"]);
            const durationLoosened = (label: string, path: string[], looserIfLonger: boolean) => {
                const [a, b] = [seconds(num(oldIn, path)), deleted ? undefined : seconds(num(newIn, path))];
                if (a !== undefined && (b === undefined || (looserIfLonger ? b > a : b < a)))
                    looser.push(`${label} ${num(oldIn, path)} -> ${b === undefined ? "unset" : num(newIn, path)}`);
            };
            durationLoosened("interval", ["outlierDetection", "interval"], true);
            durationLoosened("baseEjectionTime", ["outlierDetection", "baseEjectionTime"], false);
            if (looser.length > 0)
                risks.push({ kind: "circuit-breaker-loosened", resource: name, detail: looser.join(", ") });
        }

        // Canary weights.
        if (kind === "VirtualService" && step.op !== "create" && step.op !== "same") {
            const weights = (s: unknown) => {
                const out = new Map<string, number>();
                for (const http of get(s, ["spec", "http"]) ?? []) {
                    for (const r of http.route ?? [])
                        out.set(String(r.destination?.subset ?? r.destination?.host), r.weight ?? 100);
                }
                return out;
            };
            const [a, b] = [weights(oldIn), deleted ? new Map<string, number>() : weights(newIn)];
            const keys = [...new Set([...a.keys(), ...b.keys()])];
            const shifted = keys.filter((k) => a.get(k) !== b.get(k));
            if (shifted.length > 0) {
                risks.push({
                    kind: "canary-shift",
                    resource: name,
                    detail: keys.map((k) => `${k} ${a.get(k) ?? 0} -> ${b.get(k) ?? 0}`).join(", "),
                });
            }
        }

        // Istio charts and images.
        if (type === "kubernetes:helm.sh/v3:Release" && oldIn && newIn) {
            const chart = String(get(newIn, ["chart"]) ?? name);
            const pairs: [string, unknown, unknown][] = [
                ["chart version", get(oldIn, ["version"]), get(newIn, ["version"])],
                ["image tag", get(oldIn, ["values", "global", "tag"]), get(newIn, ["values", "global", "tag"])],
            ];
            for (const [label, from, to] of pairs) {
                if (from !== undefined && to !== undefined && from !== to) {
                    risks.push({
                        kind: "version-change",
                        resource: name,
                        detail: `Istio ${chart.split("/").pop()} ${label} ${String(from)} -> ${String(to)}`,
                    });
                }
            }
        }
    }
    risks.push(...policyRisks(events));
    return risks;
}

function seconds(d: unknown): number | undefined {
    if (typeof d !== "string") return undefined;
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(d);
    if (!m) return undefined;
    return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as "ms" | "s" | "m" | "h"];
}

/** Counts per operation, from the engine's change summary or, failing that, the steps. */
export function countOperations(preview: PreviewJson): Record<string, number> {
    if (preview.changeSummary && Object.keys(preview.changeSummary).length > 0) return { ...preview.changeSummary };
    const counts: Record<string, number> = {};
    for (const step of collapse(preview.steps ?? [])) counts[step.op] = (counts[step.op] ?? 0) + 1;
    return counts;
}

const escapeCell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderSummary(preview: PreviewJson, limit = COMMENT_LIMIT, events?: string): string {
    const counts = countOperations(preview);
    const risks = findRisks(preview, events);
    const lines: string[] = ["## kvmesh preview", ""];
    const order = ["create", "update", "replace", "delete", "same"];
    const rank = (op: string) => (order.includes(op) ? order.indexOf(op) : order.length);
    const ops = Object.keys(counts).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    lines.push("| operation | resources |", "| --- | ---: |", ...ops.map((op) => `| ${op} | ${counts[op]} |`), "");

    if (risks.length === 0) {
        lines.push("**No flagged risks.**", "");
    } else {
        lines.push(`### ⚠️ ${risks.length} flagged risk(s)`, "");
        for (const kind of Object.keys(LABELS) as RiskKind[]) {
            const ofKind = risks.filter((r) => r.kind === kind);
            if (ofKind.length === 0) continue;
            lines.push(`**${LABELS[kind]}**`, "");
            for (const r of ofKind) lines.push(`- \`${escapeCell(r.resource)}\`: ${escapeCell(r.detail)}`);
            lines.push("");
        }
    }

    const changed = collapse(preview.steps ?? []).filter((s) => s.op !== "same");
    if (changed.length > 0) {
        lines.push("### Changes", "", "| op | type | name | reasons |", "| --- | --- | --- | --- |");
        for (const s of changed) {
            const { type, name } = parseUrn(s.urn);
            const reasons = (s.replaceReasons?.length ? s.replaceReasons : (s.diffReasons ?? [])).join(", ");
            lines.push(`| ${s.op} | \`${escapeCell(type)}\` | ${escapeCell(name)} | ${escapeCell(reasons)} |`);
        }
        lines.push("");
    }
    return truncate(lines.join("\n"), limit);
}

/** Cut at a line boundary so the result, notice included, stays within `limit` characters. */
export function truncate(text: string, limit: number): string {
    if (text.length <= limit) return text;
    const notice = (n: number) =>
        `\n\n> **Truncated:** ${n} more line(s) omitted to stay under GitHub's ${limit}-character comment limit. Run \`pulumi preview --diff\` for the full plan.\n`;
    const lines = text.split("\n");
    let kept = lines.length;
    let out = text;
    while (kept > 0) {
        kept = Math.max(0, kept - Math.max(1, Math.ceil((out.length - limit) / 80)));
        out = lines.slice(0, kept).join("\n") + notice(lines.length - kept);
        if (out.length <= limit) return out;
    }
    return notice(lines.length).slice(0, limit);
}
