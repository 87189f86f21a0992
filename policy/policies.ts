/**
 * kvmesh's mesh safety rules as policies. Each is a factory taking its enforcement level, so a
 * team can run a rule as advisory while it migrates. Istio objects register as
 * `kubernetes:<group>/<version>:<Kind>`, so rules match on the type token, for any stack.
 */
import type {
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { MIGRATION_ANNOTATION } from "../components/mesh/render";
import { istio } from "../components/versions";
import { currentStackConfig, holdsSecret, plaintextConfigValues } from "./secrets";

export { MIGRATION_ANNOTATION };
const ISTIO_121_KUBERNETES = istio.kubernetesMinors;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Props = Record<string, any>;

const istioKind = (type: string, group: "security" | "networking", kind: string) =>
    new RegExp(`^kubernetes:${group}\\.istio\\.io/v(1|1beta1|1alpha3):${kind}$`).test(type);
const isMigration = (props: Props) => props.metadata?.annotations?.[MIGRATION_ANNOTATION] === "true";

/** Every mTLS mode a PeerAuthentication sets: the workload-wide one and per port. */
function mtlsModes(props: Props): { where: string; mode: string }[] {
    const out = [{ where: "spec.mtls.mode", mode: String(props.spec?.mtls?.mode ?? "UNSET") }];
    for (const [port, setting] of Object.entries<Props>(props.spec?.portLevelMtls ?? {})) {
        out.push({ where: `spec.portLevelMtls.${port}.mode`, mode: String(setting?.mode ?? "UNSET") });
    }
    return out;
}

export function mtlsStrict(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
    return {
        name: "kvmesh-mtls-strict",
        description: "Every PeerAuthentication enforces STRICT mutual TLS (explicitly, not inherited).",
        enforcementLevel,
        validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
            if (!istioKind(args.type, "security", "PeerAuthentication") || isMigration(args.props)) return;
            for (const { where, mode } of mtlsModes(args.props)) {
                if (mode !== "STRICT") {
                    report(
                        `${where} is ${mode}; set it to STRICT. Plaintext is only allowed during a documented migration (mesh.mtls.migration, which annotates ${MIGRATION_ANNOTATION}: "true").`,
                    );
                }
            }
        },
    };
}

export function mtlsMigration(enforcementLevel: EnforcementLevel = "advisory"): ResourceValidationPolicy {
    return {
        name: "kvmesh-mtls-migration",
        description: "A PeerAuthentication marked for migration still accepts plaintext; finish the migration.",
        enforcementLevel,
        validateResource: (args, report) => {
            if (!istioKind(args.type, "security", "PeerAuthentication") || !isMigration(args.props)) return;
            const weak = mtlsModes(args.props).filter((m) => m.mode !== "STRICT");
            if (weak.length > 0) {
                report(
                    `mTLS is ${weak.map((w) => w.mode).join("/")} for a migration; switch mesh.mtls back to STRICT once every client has a sidecar.`,
                );
            }
        },
    };
}

export function circuitBreakers(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
    return {
        name: "kvmesh-circuit-breaker",
        description: "Every DestinationRule carries a circuit breaker: connectionPool and outlierDetection.",
        enforcementLevel,
        validateResource: (args, report) => {
            if (!istioKind(args.type, "networking", "DestinationRule")) return;
            const tp = args.props.spec?.trafficPolicy ?? {};
            for (const part of ["connectionPool", "outlierDetection"]) {
                if (!tp[part] || Object.keys(tp[part]).length === 0) {
                    report(
                        `spec.trafficPolicy.${part} is missing; a DestinationRule without it has no circuit breaker for host ${args.props.spec?.host}.`,
                    );
                }
            }
        },
    };
}

/** Short and namespaced host names resolved to the FQDN Istio uses. */
export function fqdn(host: string, namespace: string): string {
    if (host.includes("*")) return host;
    const dots = host.split(".").length - 1;
    if (dots === 0) return `${host}.${namespace}.svc.cluster.local`;
    if (dots === 1) return `${host}.svc.cluster.local`;
    return host;
}

export function canaryRoutes(enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
    return {
        name: "kvmesh-canary-routes",
        description:
            "VirtualService weights are integers summing to 100, and every routed subset exists in the host's DestinationRule.",
        enforcementLevel,
        validateStack: (args: StackValidationArgs, report: ReportViolation) => {
            const subsets = new Map<string, Set<string>>();
            for (const r of args.resources.filter((x) => istioKind(x.type, "networking", "DestinationRule"))) {
                const key = fqdn(String(r.props.spec?.host ?? ""), r.props.metadata?.namespace ?? "default");
                const names = subsets.get(key) ?? new Set<string>();
                for (const s of r.props.spec?.subsets ?? []) names.add(s.name);
                subsets.set(key, names);
            }
            for (const vs of args.resources.filter((x) => istioKind(x.type, "networking", "VirtualService"))) {
                checkVirtualService(vs, subsets, report);
            }
        },
    };
}

function checkVirtualService(vs: PolicyResource, subsets: Map<string, Set<string>>, report: ReportViolation): void {
    const ns = vs.props.metadata?.namespace ?? "default";
    const name = vs.props.metadata?.name ?? vs.name;
    (vs.props.spec?.http ?? []).forEach((http: Props, i: number) => {
        const routes: Props[] = http.route ?? [];
        const weights = routes.map((r) => r.weight);
        const weighted = routes.length > 1 || weights.some((w) => w !== undefined);
        if (weighted) {
            if (weights.some((w) => !Number.isInteger(w) || w < 0 || w > 100)) {
                report(
                    `VirtualService ${name} http[${i}]: weights ${weights.map(String).join("+")} must all be integers from 0 to 100.`,
                    vs.urn,
                );
            }
            const sum = weights.reduce((a: number, w) => a + (Number(w) || 0), 0);
            if (sum !== 100)
                report(
                    `VirtualService ${name} http[${i}]: weights ${weights.map(String).join("+")} sum to ${sum}, not 100.`,
                    vs.urn,
                );
        }
        for (const r of routes) {
            const subset = r.destination?.subset;
            if (!subset) continue;
            const host = fqdn(String(r.destination?.host ?? ""), ns);
            if (!subsets.get(host)?.has(subset)) {
                report(
                    `VirtualService ${name} routes to subset '${subset}' of ${r.destination?.host}, but no DestinationRule in this stack defines it; add the subset first.`,
                    vs.urn,
                );
            }
        }
    });
}

const ISTIO_CHARTS = /(^|\/)(base|istiod|istio-discovery)$/;

export function pinnedVersions(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
    return {
        name: "kvmesh-supported-versions",
        description:
            "Istio charts and images are 1.21.x, and k3s runs a Kubernetes minor Istio 1.21 supports (1.26-1.29).",
        enforcementLevel,
        validateResource: (args, report) => {
            if (args.type === "kubernetes:helm.sh/v3:Release" && ISTIO_CHARTS.test(String(args.props.chart ?? ""))) {
                const { version } = args.props;
                const tag = args.props.values?.global?.tag;
                if (version !== undefined && !/^1\.21\.\d+$/.test(String(version)))
                    report(`Istio chart ${args.props.chart} is version ${version}; kvmesh supports 1.21.x.`);
                if (tag !== undefined && !/^1\.21\.\d+$/.test(String(tag)))
                    report(`Istio images are tagged ${tag}; pin global.tag to 1.21.x.`);
                if (version === undefined && tag === undefined)
                    report(`Istio chart ${args.props.chart} pins neither a chart version nor global.tag; pin 1.21.x.`);
            }
            if (args.type === "command:remote:Command") {
                const m = /K3S_VERSION=v1\.(\d+)\.\d+\+k3s\d+/.exec(String(args.props.create ?? ""));
                if (m) {
                    const minor = Number(m[1]);
                    if (minor < ISTIO_121_KUBERNETES.min || minor > ISTIO_121_KUBERNETES.max) {
                        report(
                            `k3s installs Kubernetes 1.${minor}; Istio 1.21 supports 1.${ISTIO_121_KUBERNETES.min}-1.${ISTIO_121_KUBERNETES.max}.`,
                        );
                    }
                }
            }
        },
    };
}

/** Secret values as the program gave them: stringData as is, data base64-decoded. */
function secretValues(props: Props): { key: string; value: string }[] {
    const out: { key: string; value: string }[] = [];
    for (const [k, v] of Object.entries<unknown>(props.stringData ?? {}))
        if (typeof v === "string") out.push({ key: `stringData.${k}`, value: v });
    for (const [k, v] of Object.entries<unknown>(props.data ?? {})) {
        if (typeof v === "string") out.push({ key: `data.${k}`, value: Buffer.from(v, "base64").toString("utf8") });
    }
    return out;
}

export function secretsNotPlaintext(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
    return {
        name: "kvmesh-secret-data-is-secret",
        description:
            "No Kubernetes Secret carries a value that sits in plaintext in the stack config; set such values with `pulumi config set --secret`.",
        enforcementLevel,
        validateResource: (args, report) => {
            if (args.type !== "kubernetes:core/v1:Secret") return;
            // pulumi-kubernetes encrypts Secret data in state whatever its source, so the leak to
            // catch is the source: a value typed into Pulumi.<stack>.yaml without --secret.
            const plaintext = plaintextConfigValues(currentStackConfig());
            for (const { key, value } of secretValues(args.props)) {
                const from = plaintext.get(value);
                if (from)
                    report(
                        `${key} is the plaintext config value ${from}; store it with \`pulumi config set --secret ${from.split(".")[0]}\` and read it with requireSecret.`,
                    );
            }
        },
    };
}

const WORKLOADS = new Set([
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:ReplicaSet",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
    "kubernetes:core/v1:Pod",
]);

/** An image reference pinned by digest or by a tag other than `latest`. */
export function isPinnedImage(image: string): boolean {
    if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
    const lastSegment = image.slice(image.lastIndexOf("/") + 1);
    const tag = lastSegment.includes(":") ? lastSegment.slice(lastSegment.indexOf(":") + 1) : "";
    return tag !== "" && tag !== "latest";
}

export function pinnedImages(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
    return {
        name: "kvmesh-pinned-images",
        description: "Every container image is pinned by tag or digest; no implicit or explicit `latest`.",
        enforcementLevel,
        validateResource: (args, report) => {
            if (!WORKLOADS.has(args.type)) return;
            const p = args.props;
            const pod: Props | undefined =
                args.type === "kubernetes:core/v1:Pod"
                    ? p
                    : args.type === "kubernetes:batch/v1:CronJob"
                      ? p.spec?.jobTemplate?.spec?.template
                      : p.spec?.template;
            const injected = Boolean(pod?.metadata?.annotations?.["inject.istio.io/templates"]);
            for (const c of [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])]) {
                // Istio's injector replaces `auto` with the proxy image pinned in istiod's values.
                if (c.image === "auto" && injected) continue;
                if (typeof c.image !== "string" || !isPinnedImage(c.image)) {
                    report(`container ${c.name} uses image '${c.image}'; pin a version tag or digest (never latest).`);
                }
            }
        },
    };
}

/** Inputs a command can echo. The SSH connection's key is used by the provider, not the command. */
const COMMAND_INPUTS = ["create", "update", "delete", "stdin", "environment"];

export function commandLogging(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
    return {
        name: "kvmesh-command-secret-logging",
        description: "A command whose create/update/delete, stdin or environment holds a secret has logging 'none'.",
        enforcementLevel,
        validateResource: (args, report) => {
            if (args.type !== "command:remote:Command" && args.type !== "command:local:Command") return;
            // Only the recorded secret paths are consulted: reading a value that is unknown during
            // preview (a token not yet read back) would abort the policy.
            const secretInputs = COMMAND_INPUTS.filter((k) => holdsSecret(args.props, k));
            const logging = args.props.logging ?? "stdoutAndStderr";
            if (secretInputs.length > 0 && logging !== "none") {
                report(
                    `${secretInputs.join(", ")} ${secretInputs.length === 1 ? "holds" : "hold"} a secret but logging is '${logging}'; set logging: "none" (and list stdout in additionalSecretOutputs).`,
                );
            }
        },
    };
}

export interface Levels {
    mtlsStrict?: EnforcementLevel;
    mtlsMigration?: EnforcementLevel;
    circuitBreakers?: EnforcementLevel;
    canaryRoutes?: EnforcementLevel;
    pinnedVersions?: EnforcementLevel;
    secretsNotPlaintext?: EnforcementLevel;
    pinnedImages?: EnforcementLevel;
    commandLogging?: EnforcementLevel;
}

export function kvmeshPolicies(levels: Levels = {}) {
    return [
        mtlsStrict(levels.mtlsStrict),
        mtlsMigration(levels.mtlsMigration),
        circuitBreakers(levels.circuitBreakers),
        canaryRoutes(levels.canaryRoutes),
        pinnedVersions(levels.pinnedVersions),
        secretsNotPlaintext(levels.secretsNotPlaintext),
        pinnedImages(levels.pinnedImages),
        commandLogging(levels.commandLogging),
    ];
}
