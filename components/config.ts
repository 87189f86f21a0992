/**
 * The typed stack config: one schema for the whole stack, its defaults, and every check that
 * must pass before a single resource is registered. `parseStackConfig` is pure (tests call it
 * directly); `readStackConfig` in ./stack-config.ts feeds it from Pulumi config.
 */
import { z } from "zod";
import { cidrContains, isHostname, isNetworkOrBroadcast, parseCidr, parseIPv4 } from "./net";
import * as versions from "./versions";

export const CONFIG_NAMESPACE = "kvmesh";

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const dnsLabel = (what: string) =>
    z.string().regex(DNS_LABEL, {
        error: `must be a lowercase DNS label (a-z, 0-9, '-', at most 63 characters) to be usable as a ${what}`,
    });

const positiveInt = (unit: string) =>
    z
        .number({ error: `must be a whole number of ${unit}` })
        .int({ error: `must be a whole number of ${unit}, not a fraction` })
        .positive({ error: `must be a positive number of ${unit}` });

const ipv4 = z.string().refine((s) => parseIPv4(s) !== undefined, {
    error: "must be an IPv4 address such as 192.0.2.21",
});
const cidr = z.string().refine((s) => parseCidr(s) !== undefined, {
    error: "must be an IPv4 CIDR with no host bits set, such as 192.0.2.0/24",
});

/** Go/Envoy-style duration as Istio accepts it: 10s, 500ms, 1m30s, 1h. */
export function durationMs(text: string): number | undefined {
    const m = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text);
    if (!m || text === "") return undefined;
    const [h, min, s, ms] = m.slice(1).map((v) => Number(v ?? 0));
    return ((h * 60 + min) * 60 + s) * 1000 + ms;
}
const duration = z.string().refine((s) => (durationMs(s) ?? 0) > 0, {
    error: "must be a positive duration such as 500ms, 10s, 1m30s or 1h",
});
/** Prometheus retention: a number followed by one unit (15d, 12h, 2w, 1y). */
const retention = z.string().regex(/^[1-9]\d*(ms|s|m|h|d|w|y)$/, {
    error: "must be a Prometheus duration such as 15d, 12h or 2w",
});
const quantity = z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti)?$/, {
    error: "must be a Kubernetes quantity such as 100m, 500m, 1, 128Mi or 2Gi",
});

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

const clusterSchema = z.strictObject({
    /** provisioned: kvmesh builds nodes and k3s. existing: bring a kubeconfig, no nodes. */
    mode: z.enum(["provisioned", "existing"]).default("provisioned"),
    /** Prefix of libvirt domains and volumes and the kubeconfig context; defaults to kvmesh-<stack>. */
    name: dnsLabel("libvirt and kubeconfig name").optional(),
    k3sVersion: z
        .string()
        .regex(/^v1\.\d+\.\d+\+k3s\d+$/, { error: "must be a k3s release tag such as v1.29.15+k3s1" })
        .default(versions.k3s.version),
    /** Optional: pin the k3s binary's SHA-256 instead of trusting the release's checksum file. */
    k3sSha256: z
        .string()
        .regex(/^[0-9a-f]{64}$/, { error: "must be 64 lowercase hex characters" })
        .optional(),
    /** Base URL holding `<version>/k3s` and `<version>/sha256sum-amd64.txt` (a mirror for air-gapped sites). */
    k3sReleaseBaseUrl: z.url({ error: "must be an http(s) URL" }).default(versions.k3s.releaseBaseUrl),
    /** Stable address for the API server (VIP or DNS name); defaults to the first server's address. */
    apiEndpoint: z.string().refine(isHostname, { error: "must be an IPv4 address or a DNS name" }).optional(),
    clusterCidr: cidr.default("10.42.0.0/16"),
    serviceCidr: cidr.default("10.43.0.0/16"),
    /** Host firewall (ufw) on every node. */
    firewall: z
        .strictObject({
            enabled: z.boolean().default(true),
            /** Who may reach SSH and the Kubernetes API. */
            adminCidrs: z.array(cidr).default([]),
        })
        .prefault({}),
    /** Pulumi `protect` on data volumes, so a destroy can not take etcd and PVs with it. */
    protectDataVolumes: z.boolean().default(false),
});

const networkSchema = z.strictObject({
    cidr: cidr,
    gateway: ipv4,
    nameservers: z.array(ipv4).min(1, { error: "needs at least one nameserver" }),
});

const sshSchema = z.strictObject({
    /** Login user on the nodes (created by cloud-init on libvirt nodes). */
    user: z
        .string()
        .regex(/^[a-z_][a-z0-9_-]*$/, { error: "must be a Unix user name" })
        .default("ubuntu"),
    /** Public half of the key, written into cloud-init for libvirt nodes. */
    publicKey: z
        .string()
        .regex(/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$/, {
            error: "must be an OpenSSH public key line such as 'ssh-ed25519 AAAA... you@host'",
        })
        .optional(),
    /** Path to the public key file, as an alternative to publicKey. */
    publicKeyFile: z.string().min(1).optional(),
    /** Path to the private key, as an alternative to the `kvmesh:sshPrivateKey` secret. */
    privateKeyFile: z.string().min(1).optional(),
});

const hypervisorSchema = z.strictObject({
    name: dnsLabel("hypervisor name"),
    host: z.string().refine(isHostname, { error: "must be an IPv4 address or a DNS name" }),
    port: z.number().int().min(1).max(65535).default(22),
    user: z.string().min(1).default("root"),
    /** Pin the hypervisor's SSH host key (recommended); unpinned keys are not checked. */
    hostKey: z.string().optional(),
    libvirtUri: z.string().default("qemu:///system"),
    /** Storage pool for the base image and root disks (qcow2 overlays need a dir pool). */
    imagePool: z.string().min(1).default("default"),
    /** Storage pool on the hypervisor's NVMe, for the data volumes. */
    dataPool: z.string().min(1).default("nvme"),
    /** Host bridge the VMs attach to, so their static addresses are reachable on the LAN. */
    bridge: z.string().min(1).default("br0"),
    /** Reach the VMs through this hypervisor (SSH jump host) instead of directly. */
    jumpHost: z.boolean().default(false),
});

const nodeCommon = {
    name: dnsLabel("hostname and Kubernetes node name"),
    role: z.enum(["server", "agent"], { error: "must be 'server' or 'agent'" }),
    address: ipv4,
    labels: z.record(z.string(), z.string()).default({}),
};

const libvirtNodeSchema = z.strictObject({
    ...nodeCommon,
    backend: z.literal("libvirt"),
    hypervisor: z.string().min(1, { error: "must name a hypervisor from kvmesh:hypervisors" }),
    cpus: positiveInt("vCPUs").default(2),
    memoryMiB: positiveInt("MiB").default(4096),
    diskGiB: positiveInt("GiB").default(30),
    dataGiB: positiveInt("GiB").default(100),
});

const existingNodeSchema = z.strictObject({
    ...nodeCommon,
    backend: z.literal("existing"),
    /** The NVMe block device for data, ideally a stable /dev/disk/by-id path. */
    dataDevice: z.string().regex(/^\/dev\/[A-Za-z0-9/_.:-]+$/, {
        error: "must be a block device path such as /dev/disk/by-id/nvme-... or /dev/nvme1n1",
    }),
    sshUser: z.string().min(1).optional(),
    sshPort: z.number().int().min(1).max(65535).default(22),
    /** Pin the node's SSH host key (recommended). */
    hostKey: z.string().optional(),
});

const nodeSchema = z.discriminatedUnion("backend", [libvirtNodeSchema, existingNodeSchema], {
    error: "needs `backend: libvirt` (a VM kvmesh creates) or `backend: existing` (a VPS you rent)",
});

const circuitBreakerSchema = z.strictObject({
    maxConnections: positiveInt("connections"),
    http1MaxPendingRequests: positiveInt("requests"),
    maxRequestsPerConnection: positiveInt("requests"),
    consecutive5xxErrors: positiveInt("errors"),
    interval: duration,
    baseEjectionTime: duration,
    maxEjectionPercent: z
        .number()
        .int({ error: "must be a whole percentage" })
        .min(0, { error: "must be between 0 and 100" })
        .max(100, { error: "must be between 0 and 100" }),
});
export type CircuitBreaker = z.infer<typeof circuitBreakerSchema>;

/** DESIGN.md seed values. */
export const SEED_CIRCUIT_BREAKER: CircuitBreaker = {
    maxConnections: 100,
    http1MaxPendingRequests: 1,
    maxRequestsPerConnection: 1,
    consecutive5xxErrors: 3,
    interval: "10s",
    baseEjectionTime: "30s",
    maxEjectionPercent: 100,
};

const subsetSchema = z.strictObject({
    name: dnsLabel("subset name"),
    /** Pod labels that select this subset, e.g. { version: v2 }. */
    labels: z.record(z.string(), z.string()).refine((l) => Object.keys(l).length > 0, {
        error: "needs at least one pod label, e.g. { version: v1 }",
    }),
});

const routeSchema = z.strictObject({
    subset: z.string().min(1, { error: "must name a subset from canary.subsets" }),
    weight: z
        .number({ error: "must be a whole number from 0 to 100" })
        .int({ error: "must be a whole number from 0 to 100" })
        .min(0, { error: "must be from 0 to 100" })
        .max(100, { error: "must be from 0 to 100" }),
});

const serviceSchema = z.strictObject({
    name: dnsLabel("resource name"),
    namespace: dnsLabel("namespace").default("default"),
    /** The mesh host; defaults to the service name (resolved in its namespace). */
    host: z.string().min(1).optional(),
    /** Overrides of mesh.defaultCircuitBreaker for this host. */
    circuitBreaker: circuitBreakerSchema.partial().default({}),
    canary: z
        .strictObject({
            /** VirtualService name; defaults to `<name>-route`. */
            routeName: dnsLabel("VirtualService name").optional(),
            /** Subsets live in the DestinationRule; a subset may exist before any route uses it. */
            subsets: z.array(subsetSchema).min(1, { error: "a canary needs at least one subset" }),
            /** Weighted routes of the VirtualService; weights sum to 100. */
            routes: z.array(routeSchema).min(1, { error: "a canary needs at least one route" }),
        })
        .optional(),
});

/** DESIGN.md seed values: a circuit breaker for payment-service, a 90/10 canary for my-app. */
export const SEED_SERVICES = [
    { name: "payment-service", namespace: "default" },
    {
        name: "my-app",
        namespace: "default",
        canary: {
            routeName: "my-app-route",
            subsets: [
                { name: "v1", labels: { version: "v1" } },
                { name: "v2", labels: { version: "v2" } },
            ],
            routes: [
                { subset: "v1", weight: 90 },
                { subset: "v2", weight: 10 },
            ],
        },
    },
];

const chartSourceSchema = z.union(
    [
        z.strictObject({ repository: z.string().regex(/^(https?|oci):\/\/\S+$/) }),
        z.strictObject({ path: z.string().min(1) }),
    ],
    {
        error: "must be { repository: https://... or oci://... } or { path: <directory holding base/ and istiod/ (or istio-control/istio-discovery/)> }",
    },
);

const workloadResourcesSchema = z.strictObject({
    replicas: positiveInt("replicas").default(1),
    cpuRequest: quantity,
    memoryRequest: quantity,
    /**
     * A PodDisruptionBudget (minAvailable 1). Defaults to on only with 2+ replicas: with one
     * replica it would block every node drain.
     */
    podDisruptionBudget: z.boolean().optional(),
});

const meshSchema = z.strictObject({
    chartSource: chartSourceSchema.default({ repository: versions.istio.chartRepository }),
    /** Namespaces labelled istio-injection=enabled. Existing ones (default) are patched, not created. */
    namespaces: z.array(dnsLabel("namespace")).default(["default"]),
    mtls: z
        .strictObject({
            mode: z.enum(["STRICT", "PERMISSIVE"]).default("STRICT"),
            /** PERMISSIVE is only allowed as an explicit, temporary migration step. */
            migration: z.boolean().default(false),
        })
        .prefault({}),
    istiod: workloadResourcesSchema
        .extend({ cpuRequest: quantity.default("500m"), memoryRequest: quantity.default("2048Mi") })
        .prefault({}),
    gateway: workloadResourcesSchema
        .extend({
            enabled: z.boolean().default(true),
            namespace: dnsLabel("namespace").default("istio-ingress"),
            cpuRequest: quantity.default("100m"),
            memoryRequest: quantity.default("128Mi"),
        })
        .prefault({}),
    defaultCircuitBreaker: circuitBreakerSchema.default(SEED_CIRCUIT_BREAKER),
    services: z.array(serviceSchema).prefault(SEED_SERVICES),
});

const observabilitySchema = z.strictObject({
    namespace: dnsLabel("namespace").default("monitoring"),
    prometheus: z
        .strictObject({
            retention: retention.default("15d"),
            storageGiB: positiveInt("GiB").default(20),
            /** k3s's local-path class, whose PVs live under /var/lib/rancher, i.e. on NVMe. */
            storageClass: z.string().min(1).default("local-path"),
            scrapeInterval: duration.default("15s"),
            cpuRequest: quantity.default("250m"),
            memoryRequest: quantity.default("1Gi"),
        })
        .prefault({}),
    grafana: z
        .strictObject({
            enabled: z.boolean().default(true),
            cpuRequest: quantity.default("100m"),
            memoryRequest: quantity.default("256Mi"),
        })
        .prefault({}),
});

/** Object-valued settings, each a top-level key `kvmesh:<key>` in the stack config. */
const settingSchemas = {
    cluster: clusterSchema.prefault({}),
    network: networkSchema.optional(),
    ssh: sshSchema.prefault({}),
    hypervisors: z.array(z.unknown()).default([]),
    nodes: z.array(z.unknown()).default([]),
    mesh: meshSchema.prefault({}),
    observability: observabilitySchema.prefault({}),
};

/** Secret settings: read with requireSecret, never part of the typed object. */
export const SECRET_KEYS = ["sshPrivateKey", "kubeconfig", "grafanaAdminPassword"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

export type ClusterConfig = z.infer<typeof clusterSchema>;
export type NetworkConfig = z.infer<typeof networkSchema>;
export type SshConfig = z.infer<typeof sshSchema>;
export type HypervisorConfig = z.infer<typeof hypervisorSchema>;
export type LibvirtNodeConfig = z.infer<typeof libvirtNodeSchema>;
export type ExistingNodeConfig = z.infer<typeof existingNodeSchema>;
export type NodeConfig = z.infer<typeof nodeSchema>;
export type ServiceConfig = z.infer<typeof serviceSchema>;
export type MeshConfig = z.infer<typeof meshSchema>;
export type ObservabilityConfig = z.infer<typeof observabilitySchema>;
export type ChartSource = z.infer<typeof chartSourceSchema>;

export interface StackConfig {
    cluster: ClusterConfig;
    network?: NetworkConfig;
    ssh: SshConfig;
    hypervisors: HypervisorConfig[];
    nodes: NodeConfig[];
    mesh: MeshConfig;
    observability: ObservabilityConfig;
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

export interface ConfigProblem {
    /** Config path as the user writes it, e.g. `kvmesh:nodes[1].memoryMiB`. */
    path: string;
    message: string;
}

export class ConfigValidationError extends Error {
    constructor(public readonly problems: ConfigProblem[]) {
        super(formatProblems(problems));
        this.name = "ConfigValidationError";
    }
}

export function formatProblems(problems: ConfigProblem[]): string {
    const lines = problems.map((p) => `  - ${p.path}: ${p.message}`);
    return `kvmesh: the stack config has ${problems.length} problem(s); nothing was created:\n${lines.join("\n")}`;
}

function formatPath(key: string, path: readonly PropertyKey[]): string {
    let out = `${CONFIG_NAMESPACE}:${key}`;
    for (const part of path) {
        out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
    }
    return out;
}

/** Levenshtein distance, for "did you mean" hints on typos. */
function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const cur = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = cur;
        }
    }
    return row[b.length];
}

function suggestion(unknown: string, known: readonly string[]): string {
    const best = known
        .map((k) => ({ k, d: editDistance(unknown.toLowerCase(), k.toLowerCase()) }))
        .sort((x, y) => x.d - y.d)[0];
    return best && best.d <= Math.max(2, Math.floor(unknown.length / 3)) ? ` (did you mean '${best.k}'?)` : "";
}

function describeIssue(issue: z.core.$ZodIssue, schemaKeys: (path: readonly PropertyKey[]) => string[]): string {
    switch (issue.code) {
        case "unrecognized_keys":
            return issue.keys
                .map(
                    (k) =>
                        `'${k}' is not a setting here; remove it or fix the spelling${suggestion(k, schemaKeys(issue.path))}`,
                )
                .join("; ");
        case "invalid_type":
            if (issue.input === undefined) return `is required; set it (expected ${issue.expected})`;
            return issue.message.startsWith("Invalid input")
                ? `must be of type ${issue.expected}; fix the value`
                : issue.message;
        case "invalid_value":
            return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
        default:
            return issue.message;
    }
}

/** Known keys of the object schema at `path`, for typo suggestions. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
    let s: unknown = schema;
    const unwrap = (x: unknown): unknown => {
        let cur = x as { def?: { innerType?: unknown; element?: unknown; options?: unknown[] } };
        while (cur?.def?.innerType) cur = cur.def.innerType as typeof cur;
        return cur;
    };
    for (const part of path) {
        s = unwrap(s);
        const def = (s as { def?: { shape?: Record<string, unknown>; element?: unknown } }).def;
        if (typeof part === "number" && def?.element) s = def.element;
        else if (def?.shape && typeof part === "string") s = def.shape[part];
    }
    s = unwrap(s);
    const def = (s as { def?: { shape?: Record<string, unknown>; options?: { def?: { shape?: object } }[] } }).def;
    if (def?.shape) return Object.keys(def.shape);
    if (def?.options) return [...new Set(def.options.flatMap((o) => Object.keys(o.def?.shape ?? {})))];
    return [];
}

function parseWith<T>(
    schema: z.ZodType<T>,
    key: string,
    value: unknown,
    problems: ConfigProblem[],
    pathPrefix: PropertyKey[] = [],
): T | undefined {
    const result = schema.safeParse(value, { reportInput: true });
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
        problems.push({
            path: formatPath(key, [...pathPrefix, ...issue.path]),
            message: describeIssue(issue, (p) => keysAt(schema, p)),
        });
    }
    return undefined;
}

export interface RawStackConfig {
    /** Every `kvmesh:*` config value, objects already parsed from JSON, secrets replaced by `true`. */
    values: Record<string, unknown>;
    /** Which secret settings are present (as secrets or via a file). */
    secretsPresent: Partial<Record<SecretKey, boolean>>;
}

/**
 * Validate and default the whole stack config. Every problem is collected and reported at
 * once (each with the config path and the fix) in a ConfigValidationError.
 */
export function parseStackConfig(raw: RawStackConfig): StackConfig {
    const problems: ConfigProblem[] = [];
    const known = [...Object.keys(settingSchemas), ...SECRET_KEYS];
    for (const key of Object.keys(raw.values)) {
        if (!known.includes(key)) {
            problems.push({
                path: `${CONFIG_NAMESPACE}:${key}`,
                message: `is not a kvmesh setting; remove it or fix the spelling${suggestion(key, known)}`,
            });
        }
    }

    type Settings = typeof settingSchemas;
    const get = <K extends keyof Settings>(key: K): z.infer<Settings[K]> | undefined =>
        parseWith(settingSchemas[key] as unknown as z.ZodType<z.infer<Settings[K]>>, key, raw.values[key], problems);

    const cluster = get("cluster");
    const network = get("network");
    const ssh = get("ssh");
    const mesh = get("mesh");
    const observability = get("observability");
    // Lists are parsed element by element so one bad entry does not hide the others' problems.
    const hypervisors = (get("hypervisors") ?? [])
        .map((h, i) => parseWith(hypervisorSchema, "hypervisors", h, problems, [i]))
        .filter((h): h is HypervisorConfig => h !== undefined);
    const nodes = (get("nodes") ?? [])
        .map((n, i) => parseWith(nodeSchema, "nodes", n, problems, [i]))
        .filter((n): n is NodeConfig => n !== undefined);

    const add = (path: string, message: string) => problems.push({ path: `${CONFIG_NAMESPACE}:${path}`, message });

    if (cluster) {
        checkCluster(cluster, network, ssh, hypervisors, nodes, raw, add);
    }
    if (mesh) checkMesh(mesh, add);
    if (mesh && observability) {
        if (mesh.namespaces.includes(observability.namespace)) {
            add(
                "observability.namespace",
                `'${observability.namespace}' is also in mesh.namespaces; Prometheus must run without a sidecar, so use a namespace that is not injected`,
            );
        }
    }

    if (problems.length > 0 || !cluster || !ssh || !mesh || !observability) {
        throw new ConfigValidationError(problems);
    }
    return { cluster, network, ssh, hypervisors, nodes, mesh, observability };
}

type Add = (path: string, message: string) => void;

function checkCluster(
    cluster: ClusterConfig,
    network: NetworkConfig | undefined,
    ssh: SshConfig | undefined,
    hypervisors: HypervisorConfig[],
    nodes: NodeConfig[],
    raw: RawStackConfig,
    add: Add,
): void {
    const minor = versions.kubernetesMinorOf(cluster.k3sVersion);
    const { min, max } = versions.istio.kubernetesMinors;
    if (minor !== undefined && (minor < min || minor > max)) {
        add(
            "cluster.k3sVersion",
            `${cluster.k3sVersion} is Kubernetes 1.${minor}, but Istio ${versions.istio.version} supports 1.${min}-1.${max}; use a k3s v1.${min}-v1.${max} release such as ${versions.k3s.version}`,
        );
    }

    if (cluster.mode === "existing") {
        if (!raw.secretsPresent.kubeconfig) {
            add(
                "kubeconfig",
                "is required in existing mode; set it with `pulumi config set --secret kvmesh:kubeconfig < ~/.kube/config`",
            );
        }
        const rawNodes = raw.values.nodes;
        if (Array.isArray(rawNodes) && rawNodes.length > 0) {
            add(
                "nodes",
                "must be empty in existing mode (kvmesh provisions no nodes); remove it or set cluster.mode: provisioned",
            );
        }
        const rawHypervisors = raw.values.hypervisors;
        if (Array.isArray(rawHypervisors) && rawHypervisors.length > 0) {
            add("hypervisors", "must be empty in existing mode; remove it or set cluster.mode: provisioned");
        }
        return;
    }

    // provisioned
    const rawNodeCount = Array.isArray(raw.values.nodes) ? raw.values.nodes.length : 0;
    if (rawNodeCount === 0) {
        add("nodes", "is empty; list at least one node with role: server (or set cluster.mode: existing)");
    }
    const servers = nodes.filter((n) => n.role === "server");
    if (rawNodeCount > 0 && nodes.length === rawNodeCount && servers.length === 0) {
        add("nodes", "has no node with role: server; make one node (or 3 for HA) a server");
    }
    if (servers.length > 1 && servers.length % 2 === 0) {
        add(
            "nodes",
            `has ${servers.length} servers; embedded etcd needs an odd number for quorum, so use 1, 3 or 5 servers (make one of them an agent)`,
        );
    }

    const seenHv = new Map<string, number>();
    hypervisors.forEach((h, i) => {
        if (seenHv.has(h.name))
            add(`hypervisors[${i}].name`, `'${h.name}' is used twice; hypervisor names must be unique`);
        seenHv.set(h.name, i);
    });

    const seenName = new Map<string, number>();
    const seenAddress = new Map<string, number>();
    const netCidr = network ? parseCidr(network.cidr) : undefined;
    nodes.forEach((n, i) => {
        const at = `nodes[${i}]`;
        const prev = seenName.get(n.name);
        if (prev !== undefined)
            add(`${at}.name`, `'${n.name}' is also the name of nodes[${prev}]; node names must be unique`);
        else seenName.set(n.name, i);
        const prevAddr = seenAddress.get(n.address);
        if (prevAddr !== undefined)
            add(
                `${at}.address`,
                `${n.address} is also the address of nodes[${prevAddr}]; give each node its own address`,
            );
        else seenAddress.set(n.address, i);

        if (n.backend === "libvirt") {
            if (!seenHv.has(n.hypervisor)) {
                const names = [...seenHv.keys()];
                add(
                    `${at}.hypervisor`,
                    `'${n.hypervisor}' is not in kvmesh:hypervisors${names.length ? ` (known: ${names.join(", ")})` : ""}; add it there or fix the name`,
                );
            }
            const minMem = versions.k3sMinimumMemoryMiB[n.role];
            if (n.memoryMiB < minMem) {
                add(
                    `${at}.memoryMiB`,
                    `${n.memoryMiB} MiB is below k3s's minimum of ${minMem} MiB for ${n.role === "agent" ? "an agent" : "a server"}; raise it`,
                );
            }
            if (!network) {
                add(
                    "network",
                    `is required for libvirt nodes (${n.name} gets a static address); set cidr, gateway and nameservers`,
                );
            } else if (netCidr) {
                const addr = parseIPv4(n.address);
                if (addr !== undefined && !cidrContains(netCidr, addr)) {
                    add(
                        `${at}.address`,
                        `${n.address} is outside kvmesh:network.cidr ${network.cidr}; use an address inside it or widen the CIDR`,
                    );
                } else if (addr !== undefined && isNetworkOrBroadcast(netCidr, addr)) {
                    add(
                        `${at}.address`,
                        `${n.address} is the network or broadcast address of ${network.cidr}; pick a host address`,
                    );
                } else if (n.address === network.gateway) {
                    add(`${at}.address`, `${n.address} is the gateway; pick another address`);
                }
            }
        }
    });

    if (network && netCidr) {
        const gw = parseIPv4(network.gateway);
        if (gw !== undefined && !cidrContains(netCidr, gw)) {
            add(
                "network.gateway",
                `${network.gateway} is outside kvmesh:network.cidr ${network.cidr}; the gateway must be on the node network`,
            );
        }
    }

    const needsKey = nodes.length > 0;
    if (needsKey && !raw.secretsPresent.sshPrivateKey) {
        add(
            "sshPrivateKey",
            "is required to reach the hypervisors and nodes; run `pulumi config set --secret kvmesh:sshPrivateKey < ~/.ssh/id_ed25519` or set kvmesh:ssh.privateKeyFile",
        );
    }
    if (nodes.some((n) => n.backend === "libvirt") && ssh && !ssh.publicKey) {
        add(
            "ssh.publicKey",
            "is required for libvirt nodes (cloud-init authorizes it); set it to the public half of kvmesh:sshPrivateKey",
        );
    }
    if (cluster.firewall.enabled && nodes.length > 0 && cluster.firewall.adminCidrs.length === 0) {
        add(
            "cluster.firewall.adminCidrs",
            "is empty, so the firewall would lock everyone out of SSH and the API; list the networks you administer from (e.g. your workstation's /32), or set firewall.enabled: false",
        );
    }
}

const PROTECTED_NAMESPACES = ["kube-system", "istio-system"];

function checkMesh(mesh: MeshConfig, add: Add): void {
    mesh.namespaces.forEach((ns, i) => {
        if (PROTECTED_NAMESPACES.includes(ns)) {
            add(
                `mesh.namespaces[${i}]`,
                `'${ns}' must not get sidecar injection (it runs the control plane); remove it from the list`,
            );
        }
    });
    const dup = mesh.namespaces.find((ns, i) => mesh.namespaces.indexOf(ns) !== i);
    if (dup) add("mesh.namespaces", `'${dup}' is listed twice; list each namespace once`);

    if (mesh.mtls.mode === "PERMISSIVE" && !mesh.mtls.migration) {
        add(
            "mesh.mtls.mode",
            "PERMISSIVE accepts plaintext and is only allowed during a migration to the mesh; set mesh.mtls.migration: true to acknowledge it, or use STRICT",
        );
    }

    const hosts = new Map<string, number>();
    const names = new Map<string, number>();
    mesh.services.forEach((svc, i) => {
        const at = `mesh.services[${i}]`;
        if (!mesh.namespaces.includes(svc.namespace)) {
            add(
                `${at}.namespace`,
                `'${svc.namespace}' is not in mesh.namespaces, so it has no sidecars and is not created; add it there`,
            );
        }
        const hostKey = `${svc.namespace}/${svc.host ?? svc.name}`;
        const prevHost = hosts.get(hostKey);
        if (prevHost !== undefined) {
            add(
                `${at}.host`,
                `host '${svc.host ?? svc.name}' in '${svc.namespace}' is also configured by mesh.services[${prevHost}]; Istio needs exactly one DestinationRule per host, so merge them`,
            );
        } else hosts.set(hostKey, i);
        const nameKey = `${svc.namespace}/${svc.name}`;
        const prevName = names.get(nameKey);
        if (prevName !== undefined && prevHost === undefined) {
            add(`${at}.name`, `'${svc.name}' is used twice in '${svc.namespace}'; names must be unique per namespace`);
        } else names.set(nameKey, i);

        const canary = svc.canary;
        if (!canary) return;
        const total = canary.routes.reduce((sum, r) => sum + r.weight, 0);
        if (total !== 100) {
            add(
                `${at}.canary.routes`,
                `weights ${canary.routes.map((r) => r.weight).join("+")} sum to ${total}; they must sum to exactly 100`,
            );
        }
        const subsets = new Set<string>();
        canary.subsets.forEach((s, j) => {
            if (subsets.has(s.name))
                add(
                    `${at}.canary.subsets[${j}].name`,
                    `subset '${s.name}' is listed twice; subset names must be unique`,
                );
            subsets.add(s.name);
        });
        const routed = new Set<string>();
        canary.routes.forEach((r, j) => {
            if (!subsets.has(r.subset)) {
                add(
                    `${at}.canary.routes[${j}].subset`,
                    `routes to subset '${r.subset}', which is not in canary.subsets (${[...subsets].join(", ")}); add the subset or fix the name`,
                );
            }
            if (routed.has(r.subset))
                add(
                    `${at}.canary.routes[${j}].subset`,
                    `subset '${r.subset}' is routed twice; give each subset one route`,
                );
            routed.add(r.subset);
        });
    });
}

/** The k3s minor version must match Istio's support window; exported for the policy pack. */
export function istioSupportsK3s(k3sVersion: string): boolean {
    const minor = versions.kubernetesMinorOf(k3sVersion);
    const { min, max } = versions.istio.kubernetesMinors;
    return minor !== undefined && minor >= min && minor <= max;
}
