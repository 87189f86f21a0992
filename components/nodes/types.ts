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
     * The resource whose deletion takes the whole machine with it (the VM), if kvmesh owns the
     * machine. Commands on the node use it as `deletedWith`, so destroy does not SSH into a VM
     * that is being deleted anyway.
     */
    readonly machine?: pulumi.Resource;
}
