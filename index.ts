/**
 * kvmesh: KVM nodes -> k3s -> Istio 1.21 -> policies -> Prometheus and Grafana, as one stack.
 * This file only reads config and composes components; every decision lives in components/.
 */
import * as pulumi from "@pulumi/pulumi";
import { ExistingCluster, K3sCluster } from "./components/cluster";
import { ISTIO_NAMESPACE, IstioMesh } from "./components/mesh";
import { ClusterNode, provisionNodes } from "./components/nodes";
import { Observability } from "./components/observability";
import { derivePassword, loadStackConfig } from "./components/stack-config";

const { config, secrets } = loadStackConfig();
const clusterName = config.cluster.name ?? `kvmesh-${pulumi.getStack()}`;

let nodes: ClusterNode[] = [];
let cluster: K3sCluster | ExistingCluster;
if (config.cluster.mode === "provisioned") {
    nodes = provisionNodes(config, secrets.sshPrivateKey!, clusterName);
    cluster = new K3sCluster("cluster", { nodes, config: config.cluster, clusterName });
} else {
    cluster = new ExistingCluster("cluster", { kubeconfig: secrets.kubeconfig! });
}

const k8sOpts = { provider: cluster.provider };
const mesh = new IstioMesh("mesh", { config: config.mesh, deletedWith: cluster.deletionAnchor }, k8sOpts);
const observability = new Observability(
    "observability",
    {
        config: config.observability,
        istioNamespace: ISTIO_NAMESPACE,
        grafanaAdminPassword:
            secrets.grafanaAdminPassword ??
            derivePassword((secrets.sshPrivateKey ?? secrets.kubeconfig)!, `${clusterName}/grafana-admin`),
        deletedWith: cluster.deletionAnchor,
    },
    { ...k8sOpts, dependsOn: [mesh] },
);

export const mode = config.cluster.mode;
export const nodeAddresses = Object.fromEntries(nodes.map((n) => [n.name, n.address]));
export const kubeconfig = cluster.kubeconfig; // a secret: `pulumi stack output kubeconfig --show-secrets`
export const injectedNamespaces = config.mesh.namespaces;
export const access = observability.access;
export const grafanaAdminPassword = observability.grafanaAdminSecret
    ? pulumi.secret(observability.grafanaAdminSecret.stringData.apply((d) => d?.["admin-password"] ?? ""))
    : undefined;
