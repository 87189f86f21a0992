/**
 * Pure renderers for the mesh layer: Helm values for Istio's charts, chart references, and
 * the Istio objects (PeerAuthentication, DestinationRule, VirtualService) as plain data.
 */
import * as path from "path";
import type { ChartSource, CircuitBreaker, MeshConfig, ServiceConfig } from "../config";
import * as versions from "../versions";

export const ISTIO_NAMESPACE = "istio-system";
export const INJECTION_LABEL = { "istio-injection": "enabled" } as const;
/** Namespaces every cluster already has: labelled by patch, never created or deleted. */
export const BUILTIN_NAMESPACES = ["default", "kube-public", "kube-node-lease"];

/** Charts kvmesh installs with Helm (the ingress gateway is typed objects, see gateway.ts). */
export type IstioChart = "base" | "istiod";

export interface ChartRef {
    chart: string;
    version?: string;
    repositoryOpts?: { repo: string };
}

/**
 * Where helm.v3.Release finds a chart. A local directory may hold released charts
 * (base/, istiod/) or Istio's source tree layout (istio-control/istio-discovery/).
 */
export function chartRef(source: ChartSource, chart: IstioChart, exists: (p: string) => boolean): ChartRef {
    if ("path" in source) {
        if (chart !== "istiod") return { chart: path.join(source.path, chart) };
        const released = path.join(source.path, "istiod");
        return { chart: exists(released) ? released : path.join(source.path, "istio-control", "istio-discovery") };
    }
    if (source.repository.startsWith("oci://")) {
        return { chart: `${source.repository.replace(/\/$/, "")}/${chart}`, version: versions.istio.version };
    }
    return { chart, version: versions.istio.version, repositoryOpts: { repo: source.repository } };
}

const pdbEnabled = (w: { replicas: number; podDisruptionBudget?: boolean }) => w.podDisruptionBudget ?? w.replicas > 1;

/** The images every chart uses, pinned here rather than taken from chart defaults. */
export const pinnedGlobal = () => ({ hub: versions.istio.hub, tag: versions.istio.version });

export function baseValues(): Record<string, unknown> {
    return {
        defaultRevision: "default",
        // base ships no image; the pin still documents (and lets policy check) the Istio release.
        global: { ...pinnedGlobal(), istioNamespace: ISTIO_NAMESPACE },
        // CRDs as release templates, not Helm's crds/ directory: Helm never upgrades or deletes
        // crds/, so a version bump would keep stale schemas and a destroy would leave them.
        base: { enableCRDTemplates: true },
    };
}

export function istiodValues(mesh: MeshConfig): Record<string, unknown> {
    return {
        global: {
            ...pinnedGlobal(),
            istioNamespace: ISTIO_NAMESPACE,
            defaultPodDisruptionBudget: { enabled: pdbEnabled(mesh.istiod) },
        },
        pilot: {
            // A fixed replica count from config; an HPA would fight it.
            autoscaleEnabled: false,
            replicaCount: mesh.istiod.replicas,
            resources: { requests: { cpu: mesh.istiod.cpuRequest, memory: mesh.istiod.memoryRequest } },
        },
        // Sidecars serve app and Envoy metrics merged on :15020, outside mTLS, for Prometheus.
        meshConfig: { enablePrometheusMerge: true },
    };
}

export interface IstioObject {
    apiVersion: string;
    kind: string;
    metadata: {
        name: string;
        namespace: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
    };
    spec: Record<string, unknown>;
}

const MANAGED = { "app.kubernetes.io/managed-by": "kvmesh" };

/** Marks a PeerAuthentication weakened on purpose (mesh.mtls.migration); the policy pack reads it. */
export const MIGRATION_ANNOTATION = "kvmesh.io/mtls-migration";

export function peerAuthentication(namespace: string, mtls: MeshConfig["mtls"]): IstioObject {
    return {
        apiVersion: versions.istio.securityApiVersion,
        kind: "PeerAuthentication",
        metadata: {
            name: "default",
            namespace,
            labels: MANAGED,
            ...(mtls.migration && mtls.mode !== "STRICT" ? { annotations: { [MIGRATION_ANNOTATION]: "true" } } : {}),
        },
        spec: { mtls: { mode: mtls.mode } },
    };
}

export const hostOf = (svc: ServiceConfig) => svc.host ?? svc.name;
export const routeNameOf = (svc: ServiceConfig) => svc.canary?.routeName ?? `${svc.name}-route`;

/** One DestinationRule per host: its circuit breaker and, with a canary, its subsets. */
export function destinationRule(svc: ServiceConfig, defaults: CircuitBreaker): IstioObject {
    const cb = { ...defaults, ...svc.circuitBreaker };
    const spec: Record<string, unknown> = {
        host: hostOf(svc),
        trafficPolicy: {
            connectionPool: {
                tcp: { maxConnections: cb.maxConnections },
                http: {
                    http1MaxPendingRequests: cb.http1MaxPendingRequests,
                    maxRequestsPerConnection: cb.maxRequestsPerConnection,
                },
            },
            outlierDetection: {
                consecutive5xxErrors: cb.consecutive5xxErrors,
                interval: cb.interval,
                baseEjectionTime: cb.baseEjectionTime,
                maxEjectionPercent: cb.maxEjectionPercent,
            },
        },
    };
    if (svc.canary) spec.subsets = svc.canary.subsets.map((s) => ({ name: s.name, labels: s.labels }));
    return {
        apiVersion: versions.istio.networkingApiVersion,
        kind: "DestinationRule",
        metadata: { name: svc.name, namespace: svc.namespace, labels: MANAGED },
        spec,
    };
}

/** The canary's weighted routes; undefined for a service without a canary. */
export function virtualService(svc: ServiceConfig): IstioObject | undefined {
    if (!svc.canary) return undefined;
    const host = hostOf(svc);
    return {
        apiVersion: versions.istio.networkingApiVersion,
        kind: "VirtualService",
        metadata: { name: routeNameOf(svc), namespace: svc.namespace, labels: MANAGED },
        spec: {
            hosts: [host],
            http: [
                {
                    route: svc.canary.routes.map((r) => ({
                        destination: { host, subset: r.subset },
                        weight: r.weight,
                    })),
                },
            ],
        },
    };
}
