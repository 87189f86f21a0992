/** The virt-install options for one node, as a pure function (tested against the real tool). */
import { DATA_DISK_SERIAL } from "./cloud-init";

export interface VirtInstallInput {
    domain: string;
    cpus: number;
    memoryMiB: number;
    osVariant: string;
    imagePool: string;
    dataPool: string;
    rootVolume: string;
    dataVolume: string;
    seedVolume: string;
    bridge: string;
    mac: string;
}

/** Arguments after `virt-install --connect <uri>`. */
export function renderVirtInstallArgs(i: VirtInstallInput): string[] {
    // prettier-ignore
    return [
        "--name", i.domain,
        "--vcpus", String(i.cpus),
        "--memory", String(i.memoryMiB),
        "--cpu", "host-passthrough",
        "--os-variant", i.osVariant,
        "--import",
        "--disk", `vol=${i.imagePool}/${i.rootVolume},bus=virtio`,
        // The data disk on the NVMe pool: no host page cache, native AIO, a serial for a stable by-id path.
        "--disk", `vol=${i.dataPool}/${i.dataVolume},bus=virtio,cache=none,io=native,serial=${DATA_DISK_SERIAL}`,
        "--disk", `vol=${i.imagePool}/${i.seedVolume},device=cdrom`,
        "--network", `bridge=${i.bridge},model=virtio,mac=${i.mac}`,
        "--graphics", "none",
        "--console", "pty,target_type=serial",
        "--noautoconsole",
        // Start with the hypervisor (one virt-install call, no separate `virsh autostart`).
        "--autostart",
    ];
}
