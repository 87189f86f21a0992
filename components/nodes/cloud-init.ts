/**
 * cloud-init NoCloud documents for a libvirt node, rendered by pure functions of resolved
 * values. The data volume is prepared by the same script existing nodes run over SSH.
 */
import { createHash } from "crypto";
import { stringify } from "yaml";

/** Where the data volume is mounted: k3s, containerd and local-path PVs all live below it. */
export const DATA_MOUNT = "/var/lib/rancher";
export const DATA_LABEL = "kvmesh-data";
/** virtio-blk serial of the data disk; the guest sees /dev/disk/by-id/virtio-<serial>. */
export const DATA_DISK_SERIAL = "kvmesh-data";
export const DATA_DEVICE_IN_VM = `/dev/disk/by-id/virtio-${DATA_DISK_SERIAL}`;
const DATA_SCRIPT_PATH = "/usr/local/sbin/kvmesh-data-volume";

export interface UserDataInput {
    hostname: string;
    user: string;
    sshPublicKey: string;
    /** Text of data-volume.sh. */
    dataVolumeScript: string;
}

export function renderUserData(input: UserDataInput): string {
    const doc = {
        hostname: input.hostname,
        preserve_hostname: false,
        manage_etc_hosts: true,
        users: [
            {
                name: input.user,
                groups: ["sudo"],
                shell: "/bin/bash",
                sudo: "ALL=(ALL) NOPASSWD:ALL",
                lock_passwd: true,
                ssh_authorized_keys: [input.sshPublicKey],
            },
        ],
        ssh_pwauth: false,
        disable_root: true,
        write_files: [
            {
                path: DATA_SCRIPT_PATH,
                owner: "root:root",
                permissions: "0755",
                content: input.dataVolumeScript,
            },
        ],
        runcmd: [
            [
                "env",
                `DEVICE=${DATA_DEVICE_IN_VM}`,
                `MOUNT_POINT=${DATA_MOUNT}`,
                `LABEL=${DATA_LABEL}`,
                DATA_SCRIPT_PATH,
            ],
        ],
    };
    return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}

export function renderMetaData(hostname: string): string {
    return stringify({ "instance-id": hostname, "local-hostname": hostname });
}

export interface NetworkConfigInput {
    mac: string;
    address: string;
    prefix: number;
    gateway: string;
    nameservers: string[];
}

/** netplan-style network-config v2: a static address on the NIC with this MAC. */
export function renderNetworkConfig(input: NetworkConfigInput): string {
    return stringify({
        version: 2,
        ethernets: {
            primary: {
                match: { macaddress: input.mac },
                "set-name": "eth0",
                dhcp4: false,
                dhcp6: false,
                addresses: [`${input.address}/${input.prefix}`],
                routes: [{ to: "default", via: input.gateway }],
                nameservers: { addresses: input.nameservers },
            },
        },
    });
}

/** A stable, locally administered MAC (QEMU's 52:54:00 prefix) derived from the domain name. */
export function macFor(domainName: string): string {
    const h = createHash("sha256").update(domainName).digest();
    return ["52", "54", "00", ...[h[0], h[1], h[2]].map((b) => b.toString(16).padStart(2, "0"))].join(":");
}
