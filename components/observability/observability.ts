/**
 * Prometheus and Grafana as typed Kubernetes objects: they preview offline and diff object by
 * object in a pull request, where a chart would show only a values diff.
 */
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { stringify } from "yaml";
import type { ObservabilityConfig } from "../config";
import * as versions from "../versions";
import { dashboards, renderDashboard } from "./dashboards";
import { renderPrometheusConfig } from "./prometheus-config";

export interface ObservabilityArgs {
    config: ObservabilityConfig;
    istioNamespace: string;
    grafanaAdminPassword: pulumi.Input<string>;
    deletedWith?: pulumi.Resource;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const NO_SIDECAR = { "sidecar.istio.io/inject": "false" };

export class Observability extends pulumi.ComponentResource {
    public readonly namespace: k8s.core.v1.Namespace;
    public readonly prometheus: k8s.apps.v1.StatefulSet;
    public readonly prometheusService: k8s.core.v1.Service;
    public readonly grafana?: k8s.apps.v1.Deployment;
    public readonly grafanaService?: k8s.core.v1.Service;
    public readonly grafanaAdminSecret?: k8s.core.v1.Secret;
    /** How to reach the UIs from a workstation. */
    public readonly access: Record<string, string>;

    constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kvmesh:observability:Observability", name, {}, opts);
        const cfg = args.config;
        const ns = cfg.namespace;
        const child = (extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions => ({
            parent: this,
            deletedWith: args.deletedWith,
            ...extra,
        });
        const labels = (app: string) => ({ app, "app.kubernetes.io/managed-by": "kvmesh" });

        this.namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            // Explicitly outside the mesh: Prometheus scrapes sidecars on their plaintext :15020.
            { metadata: { name: ns, labels: { "istio-injection": "disabled" } } },
            child(),
        );
        const inNs = child({ dependsOn: [this.namespace] });

        // --- Prometheus -------------------------------------------------------------------------
        const sa = new k8s.core.v1.ServiceAccount(
            `${name}-prometheus`,
            { metadata: { name: "prometheus", namespace: ns } },
            inNs,
        );
        const role = new k8s.rbac.v1.ClusterRole(
            `${name}-prometheus`,
            {
                metadata: { name: `kvmesh-prometheus-${ns}` },
                rules: [
                    {
                        apiGroups: [""],
                        resources: ["nodes", "nodes/metrics", "services", "endpoints", "pods"],
                        verbs: ["get", "list", "watch"],
                    },
                    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
                    { nonResourceURLs: ["/metrics"], verbs: ["get"] },
                ],
            },
            child(),
        );
        new k8s.rbac.v1.ClusterRoleBinding(
            `${name}-prometheus`,
            {
                metadata: { name: `kvmesh-prometheus-${ns}` },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: ns }],
            },
            child(),
        );
        const promConfig = renderPrometheusConfig({
            scrapeInterval: cfg.prometheus.scrapeInterval,
            istioNamespace: args.istioNamespace,
        });
        const promConfigMap = new k8s.core.v1.ConfigMap(
            `${name}-prometheus-config`,
            { metadata: { name: "prometheus-config", namespace: ns }, data: { "prometheus.yml": promConfig } },
            inNs,
        );
        this.prometheusService = new k8s.core.v1.Service(
            `${name}-prometheus`,
            {
                metadata: { name: "prometheus", namespace: ns, labels: labels("prometheus") },
                spec: { selector: { app: "prometheus" }, ports: [{ name: "http", port: 9090, targetPort: 9090 }] },
            },
            inNs,
        );
        this.prometheus = new k8s.apps.v1.StatefulSet(
            `${name}-prometheus`,
            {
                metadata: { name: "prometheus", namespace: ns, labels: labels("prometheus") },
                spec: {
                    serviceName: "prometheus",
                    replicas: 1,
                    selector: { matchLabels: { app: "prometheus" } },
                    template: {
                        metadata: {
                            labels: labels("prometheus"),
                            // A new scrape config rolls the pod: the diff shows both changes together.
                            annotations: { ...NO_SIDECAR, "kvmesh.io/config-sha256": sha256(promConfig) },
                        },
                        spec: {
                            serviceAccountName: sa.metadata.name,
                            securityContext: {
                                runAsUser: 65534,
                                runAsGroup: 65534,
                                runAsNonRoot: true,
                                fsGroup: 65534,
                            },
                            containers: [
                                {
                                    name: "prometheus",
                                    image: versions.images.prometheus,
                                    args: [
                                        "--config.file=/etc/prometheus/prometheus.yml",
                                        "--storage.tsdb.path=/prometheus",
                                        `--storage.tsdb.retention.time=${cfg.prometheus.retention}`,
                                    ],
                                    ports: [{ name: "http", containerPort: 9090 }],
                                    readinessProbe: { httpGet: { path: "/-/ready", port: 9090 }, periodSeconds: 10 },
                                    livenessProbe: { httpGet: { path: "/-/healthy", port: 9090 }, periodSeconds: 30 },
                                    resources: {
                                        requests: {
                                            cpu: cfg.prometheus.cpuRequest,
                                            memory: cfg.prometheus.memoryRequest,
                                        },
                                    },
                                    volumeMounts: [
                                        { name: "config", mountPath: "/etc/prometheus" },
                                        { name: "data", mountPath: "/prometheus" },
                                    ],
                                },
                            ],
                            volumes: [{ name: "config", configMap: { name: promConfigMap.metadata.name } }],
                        },
                    },
                    // local-path keeps the TSDB under /var/lib/rancher, i.e. on the NVMe volume.
                    volumeClaimTemplates: [
                        {
                            metadata: { name: "data" },
                            spec: {
                                accessModes: ["ReadWriteOnce"],
                                storageClassName: cfg.prometheus.storageClass,
                                resources: { requests: { storage: `${cfg.prometheus.storageGiB}Gi` } },
                            },
                        },
                    ],
                },
            },
            inNs,
        );
        this.access = {
            prometheus: `kubectl -n ${ns} port-forward svc/prometheus 9090:9090  # then open http://localhost:9090`,
        };

        // --- Grafana ----------------------------------------------------------------------------
        if (cfg.grafana.enabled) {
            this.grafanaAdminSecret = new k8s.core.v1.Secret(
                `${name}-grafana-admin`,
                {
                    metadata: { name: "grafana-admin", namespace: ns },
                    type: "Opaque",
                    stringData: { "admin-user": "admin", "admin-password": pulumi.secret(args.grafanaAdminPassword) },
                },
                inNs,
            );
            const datasources = stringify({
                apiVersion: 1,
                datasources: [
                    {
                        name: "Prometheus",
                        uid: "prometheus",
                        type: "prometheus",
                        access: "proxy",
                        url: `http://prometheus.${ns}.svc:9090`,
                        isDefault: true,
                    },
                ],
            });
            const providers = stringify({
                apiVersion: 1,
                providers: [
                    {
                        name: "kvmesh",
                        folder: "kvmesh",
                        type: "file",
                        disableDeletion: true,
                        allowUiUpdates: false,
                        options: { path: "/var/lib/grafana/dashboards/kvmesh" },
                    },
                ],
            });
            const dashboardFiles = Object.fromEntries(dashboards().map((d) => [`${d.uid}.json`, renderDashboard(d)]));
            const provisioning = new k8s.core.v1.ConfigMap(
                `${name}-grafana-provisioning`,
                {
                    metadata: { name: "grafana-provisioning", namespace: ns },
                    data: { "datasources.yaml": datasources, "dashboards.yaml": providers },
                },
                inNs,
            );
            const dashboardMap = new k8s.core.v1.ConfigMap(
                `${name}-grafana-dashboards`,
                { metadata: { name: "grafana-dashboards", namespace: ns }, data: dashboardFiles },
                inNs,
            );
            const checksum = sha256(datasources + providers + JSON.stringify(dashboardFiles));
            this.grafanaService = new k8s.core.v1.Service(
                `${name}-grafana`,
                {
                    metadata: { name: "grafana", namespace: ns, labels: labels("grafana") },
                    spec: { selector: { app: "grafana" }, ports: [{ name: "http", port: 3000, targetPort: 3000 }] },
                },
                inNs,
            );
            const secretRef = (key: string) => ({
                secretKeyRef: { name: this.grafanaAdminSecret!.metadata.name, key },
            });
            this.grafana = new k8s.apps.v1.Deployment(
                `${name}-grafana`,
                {
                    metadata: { name: "grafana", namespace: ns, labels: labels("grafana") },
                    spec: {
                        replicas: 1,
                        selector: { matchLabels: { app: "grafana" } },
                        template: {
                            metadata: {
                                labels: labels("grafana"),
                                annotations: { ...NO_SIDECAR, "kvmesh.io/config-sha256": checksum },
                            },
                            spec: {
                                securityContext: { runAsUser: 472, runAsGroup: 472, runAsNonRoot: true, fsGroup: 472 },
                                containers: [
                                    {
                                        name: "grafana",
                                        image: versions.images.grafana,
                                        ports: [{ name: "http", containerPort: 3000 }],
                                        env: [
                                            { name: "GF_SECURITY_ADMIN_USER", valueFrom: secretRef("admin-user") },
                                            {
                                                name: "GF_SECURITY_ADMIN_PASSWORD",
                                                valueFrom: secretRef("admin-password"),
                                            },
                                            { name: "GF_AUTH_ANONYMOUS_ENABLED", value: "false" },
                                            { name: "GF_ANALYTICS_REPORTING_ENABLED", value: "false" },
                                            { name: "GF_ANALYTICS_CHECK_FOR_UPDATES", value: "false" },
                                        ],
                                        readinessProbe: {
                                            httpGet: { path: "/api/health", port: 3000 },
                                            periodSeconds: 10,
                                        },
                                        resources: {
                                            requests: {
                                                cpu: cfg.grafana.cpuRequest,
                                                memory: cfg.grafana.memoryRequest,
                                            },
                                        },
                                        volumeMounts: [
                                            {
                                                name: "provisioning",
                                                mountPath: "/etc/grafana/provisioning/datasources/kvmesh.yaml",
                                                subPath: "datasources.yaml",
                                            },
                                            {
                                                name: "provisioning",
                                                mountPath: "/etc/grafana/provisioning/dashboards/kvmesh.yaml",
                                                subPath: "dashboards.yaml",
                                            },
                                            { name: "dashboards", mountPath: "/var/lib/grafana/dashboards/kvmesh" },
                                            { name: "data", mountPath: "/var/lib/grafana" },
                                        ],
                                    },
                                ],
                                volumes: [
                                    { name: "provisioning", configMap: { name: provisioning.metadata.name } },
                                    { name: "dashboards", configMap: { name: dashboardMap.metadata.name } },
                                    { name: "data", emptyDir: {} },
                                ],
                            },
                        },
                    },
                },
                inNs,
            );
            this.access.grafana = `kubectl -n ${ns} port-forward svc/grafana 3000:3000  # then open http://localhost:3000 as admin`;
        }
        this.registerOutputs({ access: this.access });
    }
}
