/**
 * The Istio ingress gateway as typed objects rather than Istio's `gateway` Helm chart.
 * Why: the 1.21 gateway chart's values.schema.json rejects its own values.yaml under
 * Helm >= 3.18.5 (the Helm that @pulumi/kubernetes embeds; fixed upstream only in Istio
 * 1.27.1), and typed objects preview offline and diff object by object anyway.
 * The Deployment's image is `auto`: istiod's injector fills in the pinned proxy image
 * with its "gateway" injection template, exactly as the chart's Deployment does.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { MeshConfig } from "../config";

export const GATEWAY_NAME = "istio-ingressgateway";
const SELECTOR = { app: GATEWAY_NAME, istio: "ingressgateway" };

export interface IngressGatewayArgs {
    config: MeshConfig["gateway"];
    namespace: pulumi.Input<string>;
    deletedWith?: pulumi.Resource;
    /** istiod must be up first: its injector turns `image: auto` into the proxy. */
    dependsOn: pulumi.Resource[];
}

export class IngressGateway extends pulumi.ComponentResource {
    public readonly deployment: k8s.apps.v1.Deployment;
    public readonly service: k8s.core.v1.Service;

    constructor(name: string, args: IngressGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kvmesh:mesh:IngressGateway", name, {}, opts);
        const gw = args.config;
        const child = (extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions => ({
            parent: this,
            deletedWith: args.deletedWith,
            ...extra,
        });
        const metadata = {
            name: GATEWAY_NAME,
            namespace: args.namespace,
            labels: { ...SELECTOR, "app.kubernetes.io/managed-by": "kvmesh" },
        };

        const sa = new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata }, child());
        // Gateways read TLS certificates (Gateway credentialName) from secrets in their namespace.
        const role = new k8s.rbac.v1.Role(
            `${name}-secrets`,
            { metadata, rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "watch", "list"] }] },
            child(),
        );
        new k8s.rbac.v1.RoleBinding(
            `${name}-secrets`,
            {
                metadata,
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: sa.metadata.name }],
            },
            child(),
        );
        this.service = new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: {
                    ...metadata,
                    // ServiceLB publishes the node addresses asynchronously; readiness is carried by
                    // the Deployment, so an update does not block on the load balancer status.
                    annotations: { "pulumi.com/skipAwait": "true" },
                },
                spec: {
                    // k3s's ServiceLB binds these ports on the nodes (Traefik is disabled for it).
                    type: "LoadBalancer",
                    selector: SELECTOR,
                    ports: [
                        { name: "status-port", port: 15021, targetPort: 15021, protocol: "TCP" },
                        { name: "http2", port: 80, targetPort: 80, protocol: "TCP" },
                        { name: "https", port: 443, targetPort: 443, protocol: "TCP" },
                    ],
                },
            },
            child({ dependsOn: args.dependsOn }),
        );
        this.deployment = new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata,
                spec: {
                    replicas: gw.replicas,
                    selector: { matchLabels: SELECTOR },
                    template: {
                        metadata: {
                            labels: { ...SELECTOR, "sidecar.istio.io/inject": "true" },
                            annotations: {
                                "inject.istio.io/templates": "gateway",
                                "prometheus.io/scrape": "true",
                                "prometheus.io/port": "15020",
                                "prometheus.io/path": "/stats/prometheus",
                            },
                        },
                        spec: {
                            serviceAccountName: sa.metadata.name,
                            // Bind 80/443 without root.
                            securityContext: { sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }] },
                            containers: [
                                {
                                    name: "istio-proxy",
                                    image: "auto",
                                    ports: [{ name: "http-envoy-prom", containerPort: 15090, protocol: "TCP" }],
                                    resources: { requests: { cpu: gw.cpuRequest, memory: gw.memoryRequest } },
                                    securityContext: {
                                        allowPrivilegeEscalation: false,
                                        privileged: false,
                                        readOnlyRootFilesystem: true,
                                        runAsNonRoot: true,
                                        runAsUser: 1337,
                                        runAsGroup: 1337,
                                        capabilities: { drop: ["ALL"] },
                                    },
                                },
                            ],
                        },
                    },
                },
            },
            child({ dependsOn: args.dependsOn }),
        );
        if (gw.podDisruptionBudget ?? gw.replicas > 1) {
            new k8s.policy.v1.PodDisruptionBudget(
                `${name}-pdb`,
                { metadata, spec: { minAvailable: 1, selector: { matchLabels: SELECTOR } } },
                child(),
            );
        }
        this.registerOutputs({});
    }
}
