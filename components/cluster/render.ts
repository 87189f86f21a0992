/** Pure renderers for the cluster layer: k3s config, firewall rules, kubeconfig. */
import { parse, stringify } from "yaml";

export const K3S_PORT = 6443;
export const TOKEN_FILE = "/etc/rancher/k3s/cluster-token";

export interface K3sConfigInput {
    role: "server" | "agent";
    /** The server that initialises embedded etcd (`cluster-init`). */
    initial: boolean;
    nodeName: string;
    nodeIp: string;
    /** https://<api>:6443 for every node but the initial server. */
    joinUrl?: string;
    tlsSans: string[];
    clusterCidr: string;
    serviceCidr: string;
    labels: Record<string, string>;
    dataDir: string;
}

/** /etc/rancher/k3s/config.yaml for one node. */
export function renderK3sConfig(i: K3sConfigInput): string {
    if (!i.initial && !i.joinUrl) throw new Error(`${i.nodeName}: a joining node needs joinUrl`);
    if (i.initial && i.role !== "server") throw new Error(`${i.nodeName}: only a server can initialise the cluster`);
    const cfg: Record<string, unknown> = {
        "node-name": i.nodeName,
        "node-ip": i.nodeIp,
        "data-dir": i.dataDir,
    };
    if (i.initial) cfg["cluster-init"] = true;
    else {
        cfg.server = i.joinUrl;
        cfg["token-file"] = TOKEN_FILE;
    }
    if (i.role === "server") {
        Object.assign(cfg, {
            "advertise-address": i.nodeIp,
            "tls-san": i.tlsSans,
            "cluster-cidr": i.clusterCidr,
            "service-cidr": i.serviceCidr,
            // The Istio ingress gateway takes 80/443 through ServiceLB instead.
            disable: ["traefik"],
            "secrets-encryption": true,
            "write-kubeconfig-mode": "0600",
        });
    }
    const labels = Object.entries(i.labels).map(([k, v]) => `${k}=${v}`);
    if (labels.length > 0) cfg["node-label"] = labels;
    return stringify(cfg);
}

export interface FirewallInput {
    role: "server" | "agent";
    adminCidrs: string[];
    /** Addresses of every other node in the cluster, with their roles. */
    peers: { address: string; role: "server" | "agent" }[];
    clusterCidr: string;
    serviceCidr: string;
}

/**
 * ufw rules for one node (arguments after `ufw`). Inbound is denied unless listed:
 * SSH and the API from admin networks, the k3s ports from peers, the pod and service
 * networks (which also carries the API server's calls to Istio's webhook on 15017),
 * and 80/443 for the ingress gateway.
 */
export function renderFirewallRules(i: FirewallInput): string[] {
    const rules: string[] = [];
    for (const cidr of i.adminCidrs) rules.push(`allow from ${cidr} to any port 22 proto tcp`);
    if (i.role === "server") {
        for (const cidr of i.adminCidrs) rules.push(`allow from ${cidr} to any port ${K3S_PORT} proto tcp`);
    }
    for (const peer of i.peers) {
        if (i.role === "server") rules.push(`allow from ${peer.address} to any port ${K3S_PORT} proto tcp`);
        if (i.role === "server" && peer.role === "server") {
            rules.push(`allow from ${peer.address} to any port 2379:2380 proto tcp`);
        }
        rules.push(`allow from ${peer.address} to any port 10250 proto tcp`);
        rules.push(`allow from ${peer.address} to any port 8472 proto udp`);
    }
    rules.push(`allow from ${i.clusterCidr}`, `allow from ${i.serviceCidr}`);
    rules.push("allow 80/tcp", "allow 443/tcp");
    return [...new Set(rules)];
}

/**
 * k3s writes its admin kubeconfig for https://127.0.0.1:6443 with everything named "default".
 * Point it at the API endpoint and name cluster, user and context after the stack.
 */
export function rewriteKubeconfig(kubeconfig: string, serverUrl: string, name: string): string {
    const doc = parse(kubeconfig) as {
        clusters?: { name: string; cluster: { server: string } }[];
        users?: { name: string }[];
        contexts?: { name: string; context: { cluster: string; user: string } }[];
        "current-context"?: string;
    };
    if (!doc?.clusters?.length || !doc.users?.length || !doc.contexts?.length) {
        throw new Error("the k3s kubeconfig has no cluster, user or context");
    }
    doc.clusters = doc.clusters.slice(0, 1).map((c) => ({ ...c, name, cluster: { ...c.cluster, server: serverUrl } }));
    doc.users = doc.users.slice(0, 1).map((u) => ({ ...u, name }));
    doc.contexts = [{ name, context: { cluster: name, user: name } }];
    doc["current-context"] = name;
    return stringify(doc);
}

/** Split the credentials script's output (two base64 lines) into token and kubeconfig. */
export function parseCredentials(stdout: string): { token: string; kubeconfig: string } {
    const [token, kubeconfig] = stdout.trim().split("\n");
    if (!token || !kubeconfig) throw new Error("k3s credentials output is incomplete");
    const decode = (s: string) => Buffer.from(s.trim(), "base64").toString("utf8");
    return { token: decode(token).trim(), kubeconfig: decode(kubeconfig) };
}
