import * as pulumi from "@pulumi/pulumi";
import type { Connection } from "../remote";

/** What every node backend gives the cluster layer: one shape for VMs and rented VPS. */
export interface ClusterNode {
    readonly name: string;
    readonly role: "server" | "agent";
    readonly address: string;
    readonly labels: Record<string, string>;
    /** SSH to the node itself. */
    readonly connection: pulumi.Output<Connection>;
    /** Where the NVMe data volume is mounted. */
    readonly dataMount: string;
    /**
     * The last preparation step: the node is booted and its data volume mounted. A new id
     * means a new machine (or disk), so every step on the node keys its triggers to it.
     */
    readonly ready: pulumi.CustomResource;
    /**
     * The data volume, which holds the cluster's state (etcd, k3s certificates): a rebuilt VM on
     * the same volume is the same cluster member, a new volume is not.
     */
    readonly dataVolume: pulumi.CustomResource;
    /**
     * The VM, when kvmesh owns the machine: steps on such a node need no delete command, the
     * machine goes with its VM. Machines kvmesh does not own are cleaned up step by step.
     */
    readonly machine?: pulumi.Resource;
}
