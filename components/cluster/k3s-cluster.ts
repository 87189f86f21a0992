/**
 * k3s over SSH: the first server initialises embedded etcd (so three servers make an HA
 * control plane), further servers join one at a time, agents join in parallel. The join
 * token and the kubeconfig are read back from the first server as Pulumi secrets.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type * as command from "@pulumi/command";
import type { ClusterConfig } from "../config";
import type { ClusterNode } from "../nodes/types";
import { remoteScript } from "../remote";
import { K3S_PORT, parseCredentials, renderFirewallRules, renderK3sConfig, rewriteKubeconfig } from "./render";

export interface K3sClusterArgs {
    nodes: ClusterNode[];
    config: ClusterConfig;
    /** Names the kubeconfig's cluster, user and context. */
    clusterName: string;
}

export class K3sCluster extends pulumi.ComponentResource {
    public readonly apiEndpoint: string;
    public readonly installs: command.remote.Command[];
    public readonly token: pulumi.Output<string>;
    public readonly kubeconfig: pulumi.Output<string>;
    public readonly provider: k8s.Provider;
    /** In-cluster objects use this as `deletedWith`: when it goes, the cluster goes. */
    public readonly deletionAnchor: pulumi.Resource;

    constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kvmesh:cluster:K3sCluster", name, {}, opts);
        const cfg = args.config;
        const servers = args.nodes.filter((n) => n.role === "server");
        const first = servers[0];
        if (!first) throw new Error("a k3s cluster needs a server node"); // validated earlier
        this.apiEndpoint = cfg.apiEndpoint ?? first.address;
        const joinUrl = `https://${this.apiEndpoint}:${K3S_PORT}`;
        const tlsSans = [...new Set([this.apiEndpoint, ...servers.map((s) => s.address)])];

        // Steps on a node run again on a rebuilt machine (its readiness step has a new id). On a
        // machine kvmesh does not own, a replaced step is cleaned up before it is redone, so an
        // uninstall never follows an install. (Not on VMs: there is nothing to clean up, and
        // deleting first would cascade a replacement into everything that depends on the step.)
        const onNode = (node: ClusterNode, extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions => ({
            parent: this,
            deleteBeforeReplace: node.machine === undefined,
            ...extra,
            dependsOn: [node.ready, ...((extra.dependsOn as pulumi.Resource[] | undefined) ?? [])],
        });
        const firewalls = new Map<string, command.remote.Command>();
        if (cfg.firewall.enabled) {
            for (const node of args.nodes) {
                firewalls.set(
                    node.name,
                    remoteScript(
                        `${name}-${node.name}-firewall`,
                        {
                            dir: __dirname,
                            connection: node.connection,
                            create: {
                                file: "firewall.sh",
                                args: renderFirewallRules({
                                    role: node.role,
                                    adminCidrs: cfg.firewall.adminCidrs,
                                    peers: args.nodes
                                        .filter((p) => p !== node)
                                        .map((p) => ({ address: p.address, role: p.role })),
                                    clusterCidr: cfg.clusterCidr,
                                    serviceCidr: cfg.serviceCidr,
                                }),
                            },
                            delete: node.machine ? undefined : { file: "firewall-disable.sh" },
                            triggers: [node.ready.id],
                        },
                        onNode(node),
                    ),
                );
            }
        }

        // Joining nodes get the token in a small command of its own with logging off, so the
        // install step holds no secret input and its output can be logged.
        const writeToken = (node: ClusterNode, after: pulumi.Resource[]) =>
            remoteScript(
                `${name}-${node.name}-token`,
                {
                    dir: __dirname,
                    connection: node.connection,
                    stdin: this.token,
                    secretStdout: true,
                    create: { file: "k3s-token.sh" },
                    triggers: [node.ready.id],
                },
                onNode(node, { dependsOn: after }),
            );

        const installed = new Map<string, command.remote.Command>();
        const install = (node: ClusterNode, after: pulumi.Resource[]) => {
            const step = remoteScript(
                `${name}-${node.name}-k3s`,
                {
                    dir: __dirname,
                    connection: node.connection,
                    create: {
                        file: "k3s-install.sh",
                        env: {
                            K3S_VERSION: cfg.k3sVersion,
                            RELEASE_BASE_URL: cfg.k3sReleaseBaseUrl,
                            ...(cfg.k3sSha256 ? { K3S_SHA256: cfg.k3sSha256 } : {}),
                            ROLE: node.role,
                            DATA_MOUNT: node.dataMount,
                            CONFIG_YAML: renderK3sConfig({
                                role: node.role,
                                initial: node === first,
                                nodeName: node.name,
                                nodeIp: node.address,
                                joinUrl: node === first ? undefined : joinUrl,
                                tlsSans,
                                clusterCidr: cfg.clusterCidr,
                                serviceCidr: cfg.serviceCidr,
                                labels: node.labels,
                                dataDir: `${node.dataMount}/k3s`,
                            }),
                        },
                    },
                    // VMs kvmesh owns are simply deleted; machines it does not own are cleaned up.
                    delete: node.machine ? undefined : { file: "k3s-uninstall.sh" },
                    triggers: [node.ready.id],
                },
                onNode(node, {
                    dependsOn: [...(firewalls.has(node.name) ? [firewalls.get(node.name)!] : []), ...after],
                    customTimeouts: { create: "20m", update: "20m" },
                }),
            );
            installed.set(node.name, step);
            return step;
        };

        const firstInstall = install(first, []);
        const credentials = remoteScript(
            `${name}-credentials`,
            {
                dir: __dirname,
                connection: first.connection,
                create: { file: "k3s-credentials.sh" },
                secretStdout: true,
                // Re-read only for a new cluster (a new data volume on the first server). A rebuilt
                // VM on the same volume keeps etcd and the certificates, so the token and the
                // kubeconfig stay known and the Kubernetes provider, and everything it manages,
                // are not replaced.
                triggers: [first.dataVolume.id],
            },
            { parent: this, dependsOn: [firstInstall] },
        );
        const parsed = credentials.stdout.apply(parseCredentials);
        this.token = pulumi.secret(parsed.token);
        this.kubeconfig = pulumi.secret(
            parsed.kubeconfig.apply((kc) => rewriteKubeconfig(kc, joinUrl, args.clusterName)),
        );

        // Servers join one at a time (etcd adds one member at a time); agents all at once.
        this.installs = [firstInstall];
        let previous: pulumi.Resource = credentials;
        for (const server of servers.slice(1)) {
            const joined = install(server, [writeToken(server, [previous])]);
            this.installs.push(joined);
            previous = joined;
        }
        for (const agent of args.nodes.filter((n) => n.role === "agent")) {
            this.installs.push(install(agent, [writeToken(agent, [])]));
        }

        // The cluster's state lives on the first server's data volume: when it goes, the cluster goes.
        this.deletionAnchor = first.dataVolume;

        // Membership, seen from the first server: `up` waits until each joined node is Ready, and a
        // node taken out of the config is drained and its Node object deleted (for a server, k3s
        // then removes its etcd member) before its machine goes. No triggers: a machine rebuilt
        // under the same name rejoins as the same member from its kept data volume, and must not
        // be removed from the cluster first. Skipped when the whole cluster goes (deletedWith).
        const members = args.nodes
            .filter((node) => node !== first)
            .map((node) =>
                remoteScript(
                    `${name}-${node.name}-member`,
                    {
                        dir: __dirname,
                        connection: first.connection,
                        create: { file: "node-joined.sh", env: { NODE_NAME: node.name } },
                        delete: { file: "node-remove.sh", env: { NODE_NAME: node.name } },
                    },
                    {
                        parent: this,
                        dependsOn: [installed.get(node.name)!],
                        deletedWith: this.deletionAnchor,
                        customTimeouts: { create: "15m", delete: "10m" },
                    },
                ),
            );

        this.provider = new k8s.Provider(
            `${name}-k8s`,
            { kubeconfig: this.kubeconfig, enableServerSideApply: true },
            { parent: this, dependsOn: [...this.installs, ...members] },
        );
        this.registerOutputs({ apiEndpoint: this.apiEndpoint, kubeconfig: this.kubeconfig });
    }
}
