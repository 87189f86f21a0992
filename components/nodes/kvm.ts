/**
 * KVM through libvirt over SSH: one KvmHypervisor (the pinned base image) per host and one
 * KvmNode (root disk, NVMe data volume, cloud-init seed, domain, readiness) per VM.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import type { HypervisorConfig, LibvirtNodeConfig, NetworkConfig, SshConfig } from "../config";
import { parseCidr } from "../net";
import { BOOTING_HOST_DIAL, Connection, readScript, remoteScript } from "../remote";
import * as versions from "../versions";
import { DATA_MOUNT, macFor, renderMetaData, renderNetworkConfig, renderUserData } from "./cloud-init";
import type { ClusterNode } from "./types";
import { renderVirtInstallArgs } from "./virt-install";

export interface ImagePin {
    serial: string;
    url: string;
    sha256: string;
    osVariant: string;
}

export interface KvmHypervisorArgs {
    config: HypervisorConfig;
    privateKey: pulumi.Input<string>;
    /** Prefix for every libvirt object this stack owns, so stacks can share a hypervisor. */
    namePrefix: string;
    image?: ImagePin;
}

export class KvmHypervisor extends pulumi.ComponentResource {
    public readonly config: HypervisorConfig;
    public readonly connection: pulumi.Output<Connection>;
    public readonly namePrefix: string;
    public readonly baseVolume: string;
    public readonly image: ImagePin;
    public readonly baseImage: command.remote.Command;

    constructor(name: string, args: KvmHypervisorArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kvmesh:nodes:KvmHypervisor", name, {}, opts);
        const hv = args.config;
        this.config = hv;
        this.namePrefix = args.namePrefix;
        this.image = args.image ?? versions.ubuntuImage;
        this.connection = pulumi.secret(args.privateKey).apply((privateKey) => ({
            host: hv.host,
            port: hv.port,
            user: hv.user,
            privateKey,
            ...(hv.hostKey ? { hostKey: hv.hostKey } : {}),
        }));
        this.baseVolume = `${args.namePrefix}-jammy-${this.image.serial}.qcow2`;
        this.baseImage = remoteScript(
            `${name}-base-image`,
            {
                dir: __dirname,
                connection: this.connection,
                create: {
                    file: "base-image.sh",
                    env: {
                        LIBVIRT_URI: hv.libvirtUri,
                        POOL: hv.imagePool,
                        VOLUME: this.baseVolume,
                        URL: this.image.url,
                        SHA256: this.image.sha256,
                    },
                },
                delete: {
                    file: "volume-delete.sh",
                    env: { LIBVIRT_URI: hv.libvirtUri, POOL: hv.imagePool, VOLUME: this.baseVolume },
                },
            },
            {
                parent: this,
                replaceOnChanges: ["create"],
                deleteBeforeReplace: true,
                customTimeouts: { create: "30m" },
            },
        );
        this.registerOutputs({ baseVolume: this.baseVolume });
    }
}

export interface KvmNodeArgs {
    config: LibvirtNodeConfig;
    hypervisor: KvmHypervisor;
    network: NetworkConfig;
    ssh: SshConfig & { publicKey: string };
    privateKey: pulumi.Input<string>;
    /** Pulumi `protect` on the data volume. */
    protectData: boolean;
}

export class KvmNode extends pulumi.ComponentResource implements ClusterNode {
    public readonly name: string;
    public readonly role: "server" | "agent";
    public readonly address: string;
    public readonly labels: Record<string, string>;
    public readonly connection: pulumi.Output<Connection>;
    public readonly dataMount = DATA_MOUNT;
    public readonly domainName: string;
    public readonly rootDisk: command.remote.Command;
    public readonly dataVolume: command.remote.Command;
    public readonly seed: command.remote.Command;
    public readonly domain: command.remote.Command;
    public readonly ready: command.remote.Command;
    public readonly machine: command.remote.Command;

    constructor(name: string, args: KvmNodeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kvmesh:nodes:KvmNode", name, {}, opts);
        const node = args.config;
        const hv = args.hypervisor;
        const libvirt = hv.config;
        this.name = node.name;
        this.role = node.role;
        this.address = node.address;
        this.labels = node.labels;
        this.domainName = `${hv.namePrefix}-${node.name}`;
        const rootVolume = `${this.domainName}-root.qcow2`;
        const dataVolume = `${this.domainName}-data`;
        const seedVolume = `${this.domainName}-seed.iso`;
        const mac = macFor(this.domainName);
        const uri = libvirt.libvirtUri;
        // A node is rebuilt, never edited in place: a changed image, size or seed replaces it.
        const rebuild = { parent: this, replaceOnChanges: ["create", "triggers"], deleteBeforeReplace: true };

        // A libvirt volume on the hypervisor, removed again on delete (gone already is fine).
        const volume = (
            suffix: string,
            pool: string,
            volumeName: string,
            create: Record<string, string | number>,
            options: pulumi.CustomResourceOptions,
        ) =>
            remoteScript(
                `${name}-${suffix}`,
                {
                    dir: __dirname,
                    connection: hv.connection,
                    create: {
                        file: "volume-create.sh",
                        env: { LIBVIRT_URI: uri, POOL: pool, VOLUME: volumeName, ...create },
                    },
                    delete: { file: "volume-delete.sh", env: { LIBVIRT_URI: uri, POOL: pool, VOLUME: volumeName } },
                },
                { ...rebuild, ...options },
            );
        this.rootDisk = volume(
            "root",
            libvirt.imagePool,
            rootVolume,
            { CAPACITY_GIB: node.diskGiB, FORMAT: "qcow2", BACKING_VOLUME: hv.baseVolume },
            { dependsOn: [hv.baseImage] },
        );
        // Raw, in the NVMe pool (no --format: logical pools take none).
        this.dataVolume = volume(
            "data",
            libvirt.dataPool,
            dataVolume,
            { CAPACITY_GIB: node.dataGiB, FORMAT: "" },
            { protect: args.protectData },
        );

        const cidr = parseCidr(args.network.cidr);
        if (!cidr) throw new Error(`invalid network CIDR ${args.network.cidr}`); // validated earlier
        this.seed = remoteScript(
            `${name}-seed`,
            {
                dir: __dirname,
                connection: hv.connection,
                create: {
                    file: "seed-create.sh",
                    env: {
                        LIBVIRT_URI: uri,
                        POOL: libvirt.imagePool,
                        VOLUME: seedVolume,
                        USER_DATA: renderUserData({
                            hostname: node.name,
                            user: args.ssh.user,
                            sshPublicKey: args.ssh.publicKey,
                            dataVolumeScript: readScript(__dirname, "data-volume.sh"),
                        }),
                        META_DATA: renderMetaData(node.name),
                        NETWORK_CONFIG: renderNetworkConfig({
                            mac,
                            address: node.address,
                            prefix: cidr.prefix,
                            gateway: args.network.gateway,
                            nameservers: args.network.nameservers,
                        }),
                    },
                },
                delete: {
                    file: "volume-delete.sh",
                    env: { LIBVIRT_URI: uri, POOL: libvirt.imagePool, VOLUME: seedVolume },
                },
            },
            rebuild,
        );

        this.domain = remoteScript(
            `${name}-domain`,
            {
                dir: __dirname,
                connection: hv.connection,
                create: {
                    file: "domain-create.sh",
                    env: { LIBVIRT_URI: uri, DOMAIN: this.domainName },
                    args: renderVirtInstallArgs({
                        domain: this.domainName,
                        cpus: node.cpus,
                        memoryMiB: node.memoryMiB,
                        osVariant: hv.image.osVariant,
                        imagePool: libvirt.imagePool,
                        dataPool: libvirt.dataPool,
                        rootVolume,
                        dataVolume,
                        seedVolume,
                        bridge: libvirt.bridge,
                        mac,
                    }),
                },
                delete: { file: "domain-delete.sh", env: { LIBVIRT_URI: uri, DOMAIN: this.domainName } },
                // New disks or a new seed mean a new VM.
                triggers: [this.rootDisk.id, this.dataVolume.id, this.seed.id],
            },
            rebuild,
        );
        this.machine = this.domain;

        this.connection = pulumi.all([pulumi.secret(args.privateKey), hv.connection]).apply(([privateKey, jump]) => ({
            host: node.address,
            user: args.ssh.user,
            privateKey,
            ...BOOTING_HOST_DIAL,
            ...(libvirt.jumpHost ? { proxy: { host: jump.host, port: jump.port, user: jump.user, privateKey } } : {}),
        }));

        this.ready = remoteScript(
            `${name}-ready`,
            {
                dir: __dirname,
                connection: this.connection,
                create: { file: "node-ready.sh", env: { DATA_MOUNT } },
                triggers: [this.domain.id],
            },
            { parent: this, replaceOnChanges: ["triggers"], customTimeouts: { create: "30m", update: "30m" } },
        );
        this.registerOutputs({ address: this.address, domainName: this.domainName });
    }
}
