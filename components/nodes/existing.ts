/**
 * A pre-provisioned KVM VPS reached over SSH: wait for first boot, then format the NVMe data
 * device only if blank and mount it by UUID.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import type { ExistingNodeConfig, SshConfig } from "../config";
import { BOOTING_HOST_DIAL, Connection, remoteScript } from "../remote";
import { DATA_LABEL, DATA_MOUNT } from "./cloud-init";
import type { ClusterNode } from "./types";

export interface ExistingNodeArgs {
    config: ExistingNodeConfig;
    ssh: SshConfig;
    privateKey: pulumi.Input<string>;
}

export class ExistingNode extends pulumi.ComponentResource implements ClusterNode {
    public readonly name: string;
    public readonly role: "server" | "agent";
    public readonly address: string;
    public readonly labels: Record<string, string>;
    public readonly connection: pulumi.Output<Connection>;
    public readonly dataMount = DATA_MOUNT;
    public readonly dataVolume: command.remote.Command;
    public readonly booted: command.remote.Command;
    public readonly ready: command.remote.Command;

    constructor(name: string, args: ExistingNodeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kvmesh:nodes:ExistingNode", name, {}, opts);
        const node = args.config;
        this.name = node.name;
        this.role = node.role;
        this.address = node.address;
        this.labels = node.labels;
        this.connection = pulumi.secret(args.privateKey).apply((privateKey) => ({
            host: node.address,
            port: node.sshPort,
            user: node.sshUser ?? args.ssh.user,
            privateKey,
            ...BOOTING_HOST_DIAL,
            ...(node.hostKey ? { hostKey: node.hostKey } : {}),
        }));

        this.booted = remoteScript(
            `${name}-booted`,
            { dir: __dirname, connection: this.connection, create: { file: "node-ready.sh", env: { DATA_MOUNT: "" } } },
            { parent: this, customTimeouts: { create: "30m" } },
        );
        this.ready = remoteScript(
            `${name}-data`,
            {
                dir: __dirname,
                connection: this.connection,
                create: {
                    file: "data-volume.sh",
                    env: { DEVICE: node.dataDevice, MOUNT_POINT: DATA_MOUNT, LABEL: DATA_LABEL },
                },
                delete: { file: "data-volume-release.sh", env: { MOUNT_POINT: DATA_MOUNT } },
            },
            // Pointing at another device means another disk: release the old mount first.
            { parent: this, dependsOn: [this.booted], replaceOnChanges: ["create"], deleteBeforeReplace: true },
        );
        this.dataVolume = this.ready;
        this.registerOutputs({ address: this.address });
    }
}
