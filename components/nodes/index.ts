import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import { ExistingNode } from "./existing";
import { KvmHypervisor, KvmNode } from "./kvm";
import type { ClusterNode } from "./types";

export * from "./cloud-init";
export * from "./existing";
export * from "./kvm";
export * from "./types";
export * from "./virt-install";

/**
 * Every node of a provisioned stack, in config order: one KvmHypervisor per hypervisor that
 * hosts a node, one KvmNode or ExistingNode per node.
 */
export function provisionNodes(
    cfg: StackConfig,
    privateKey: pulumi.Input<string>,
    namePrefix: string,
    opts?: pulumi.ComponentResourceOptions,
): ClusterNode[] {
    const used = new Set(cfg.nodes.flatMap((n) => (n.backend === "libvirt" ? [n.hypervisor] : [])));
    const hypervisors = new Map(
        cfg.hypervisors
            .filter((h) => used.has(h.name))
            .map((h) => [h.name, new KvmHypervisor(h.name, { config: h, privateKey, namePrefix }, opts)]),
    );
    return cfg.nodes.map((node) => {
        if (node.backend === "existing") {
            return new ExistingNode(node.name, { config: node, ssh: cfg.ssh, privateKey }, opts);
        }
        const hypervisor = hypervisors.get(node.hypervisor);
        if (!hypervisor || !cfg.network || !cfg.ssh.publicKey) {
            // parseStackConfig rejects these before we get here.
            throw new Error(`node ${node.name}: hypervisor, network and ssh.publicKey are required`);
        }
        return new KvmNode(
            node.name,
            {
                config: node,
                hypervisor,
                network: cfg.network,
                ssh: { ...cfg.ssh, publicKey: cfg.ssh.publicKey },
                privateKey,
                protectData: cfg.cluster.protectDataVolumes,
            },
            opts,
        );
    });
}
