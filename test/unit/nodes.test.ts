/** The node layer under recording mocks: resources per hypervisor and node, and their options. */
import { describe, expect, it } from "vitest";
import { DATA_DEVICE_IN_VM, DATA_MOUNT, macFor } from "../../components/nodes";
import { devValues, haValues, FAKE_PUBLIC_KEY } from "../fixtures/configs";
import { Recorder, isSecretInput, unwrapSecret } from "../support/mocks";
import { runProgram } from "../support/program";

const COMMAND = "command:remote:Command";
const commandsNamed = (r: Recorder, suffix: string) => r.ofType(COMMAND).filter((c) => c.name.endsWith(suffix));
/** Decode the `env A='..' bash -c '<script>'` command back into its environment. */
function envOf(cmd: string): Record<string, string> {
    const out: Record<string, string> = {};
    const re = /([A-Z_][A-Z0-9_]*)=('(?:[^']|'\\'')*'|[^\s']+)/g;
    const head = cmd.slice(0, cmd.indexOf(" bash -c "));
    for (const m of head.matchAll(re)) {
        out[m[1]] = m[2].startsWith("'") ? m[2].slice(1, -1).replace(/'\\''/g, "'") : m[2];
    }
    return out;
}

describe("nodes on the dev stack (1 hypervisor, 3 libvirt nodes)", () => {
    it("registers one base image per hypervisor and five commands per node", async () => {
        const { recorder } = await runProgram(devValues());
        expect(recorder.ofType("kvmesh:nodes:KvmHypervisor").map((r) => r.name)).toEqual(["kvm-1"]);
        expect(recorder.ofType("kvmesh:nodes:KvmNode").map((r) => r.name)).toEqual(["cp-1", "worker-1", "worker-2"]);
        expect(commandsNamed(recorder, "-base-image")).toHaveLength(1);
        for (const suffix of ["-root", "-data", "-seed", "-domain", "-ready"]) {
            expect(
                commandsNamed(recorder, suffix)
                    .map((c) => c.name)
                    .sort(),
            ).toEqual(["cp-1", "worker-1", "worker-2"].map((n) => `${n}${suffix}`).sort());
        }
    });

    it("downloads the pinned image and checks its SHA-256", async () => {
        const { recorder } = await runProgram(devValues());
        const env = envOf(recorder.named("kvm-1-base-image").inputs.create);
        expect(env.URL).toBe(
            "https://cloud-images.ubuntu.com/releases/jammy/release-20250429/ubuntu-22.04-server-cloudimg-amd64.img",
        );
        expect(env.SHA256).toMatch(/^[0-9a-f]{64}$/);
        expect(env.VOLUME).toBe("kvmesh-dev-jammy-20250429.qcow2");
    });

    it("builds the root disk on the base image and the data volume in the NVMe pool", async () => {
        const { recorder } = await runProgram(devValues());
        const root = envOf(recorder.named("worker-1-root").inputs.create);
        expect(root).toMatchObject({
            POOL: "default",
            CAPACITY_GIB: "30",
            FORMAT: "qcow2",
            BACKING_VOLUME: "kvmesh-dev-jammy-20250429.qcow2",
        });
        const data = envOf(recorder.named("worker-1-data").inputs.create);
        expect(data).toMatchObject({ POOL: "nvme", VOLUME: "kvmesh-dev-worker-1-data", CAPACITY_GIB: "200" });
        expect(recorder.dependsOn(recorder.named("worker-1-root"), recorder.named("kvm-1-base-image"))).toBe(true);
    });

    it("renders cloud-init with the user, key, hostname, static IP and the data volume by UUID", async () => {
        const { recorder } = await runProgram(devValues());
        const env = envOf(recorder.named("cp-1-seed").inputs.create);
        expect(env.USER_DATA).toMatch(/^#cloud-config\n/);
        expect(env.USER_DATA).toContain("hostname: cp-1");
        expect(env.USER_DATA).toContain(FAKE_PUBLIC_KEY);
        expect(env.USER_DATA).toContain(`DEVICE=${DATA_DEVICE_IN_VM}`);
        expect(env.USER_DATA).toContain(`MOUNT_POINT=${DATA_MOUNT}`);
        expect(env.USER_DATA).toContain("UUID=$uuid");
        expect(env.NETWORK_CONFIG).toContain("192.0.2.21/24");
        expect(env.NETWORK_CONFIG).toContain(`macaddress: ${macFor("kvmesh-dev-cp-1")}`);
    });

    it("rebuilds (replaces, deleting first) when what a node is built from changes", async () => {
        const { recorder } = await runProgram(devValues());
        for (const name of ["cp-1-root", "cp-1-data", "cp-1-seed", "cp-1-domain"]) {
            const r = recorder.named(name);
            expect(r.replaceOnChanges, name).toEqual(expect.arrayContaining(["create", "triggers"]));
            expect(r.deleteBeforeReplace, name).toBe(true);
            expect(r.inputs.delete, `${name} needs a delete command`).toMatch(/bash -c/);
        }
        const domain = recorder.named("cp-1-domain");
        for (const part of ["cp-1-root", "cp-1-data", "cp-1-seed"]) {
            expect(domain.dependencies).toContain(recorder.named(part).urn);
        }
    });

    it("waits for the node itself after the domain exists, with dial retries, and redoes that on a new VM", async () => {
        const { recorder } = await runProgram(devValues());
        const ready = recorder.named("worker-2-ready");
        const domain = recorder.named("worker-2-domain");
        expect(ready.dependencies).toContain(domain.urn);
        expect(ready.inputs.triggers).toEqual(["worker-2-domain-id"]);
        expect(ready.inputs.delete).toBeUndefined();
        expect(ready.inputs.create).toContain("cloud-init status --wait");
        const connection = unwrapSecret(ready.inputs.connection);
        expect(connection.host).toBe("192.0.2.23");
        expect(connection.dialErrorLimit).toBeGreaterThanOrEqual(30);
    });

    it("passes virt-install --import with the pinned os-variant and the NVMe data disk", async () => {
        const { recorder } = await runProgram(devValues());
        const create: string = recorder.named("cp-1-domain").inputs.create;
        expect(create).toContain("--import");
        expect(create).toContain("--os-variant ubuntu22.04");
        expect(create).toContain("vol=nvme/kvmesh-dev-cp-1-data,bus=virtio,cache=none,io=native,serial=kvmesh-data");
    });

    it("sends every SSH connection (it holds the private key) to the engine as a secret", async () => {
        const { recorder } = await runProgram(devValues());
        const cmds = recorder.ofType(COMMAND);
        // image, node steps, firewalls, credentials, k3s, tokens, memberships
        expect(cmds.length).toBe(1 + 3 * 5 + 3 + 1 + 3 + 2 + 2);
        for (const c of cmds) {
            expect(isSecretInput(c.inputs.connection), c.name).toBe(true);
            expect(unwrapSecret(c.inputs.connection).privateKey, c.name).toBe("fake-private-key-for-unit-tests");
        }
    });
});

describe("nodes on an HA layout (3 servers, 4 VM agents, 1 rented VPS)", () => {
    it("registers two hypervisors, seven VMs and one existing node", async () => {
        const { recorder } = await runProgram(haValues());
        expect(recorder.ofType("kvmesh:nodes:KvmHypervisor")).toHaveLength(2);
        expect(recorder.ofType("kvmesh:nodes:KvmNode")).toHaveLength(7);
        expect(recorder.ofType("kvmesh:nodes:ExistingNode").map((r) => r.name)).toEqual(["vps-1"]);
        expect(commandsNamed(recorder, "-domain")).toHaveLength(7);
    });

    it("prepares the VPS data device (format only if blank, mount by UUID) after first boot", async () => {
        const { recorder } = await runProgram(haValues());
        const data = recorder.named("vps-1-data");
        expect(recorder.dependsOn(data, recorder.named("vps-1-booted"))).toBe(true);
        const env = envOf(data.inputs.create);
        expect(env.DEVICE).toBe("/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5GXNX0T000000");
        expect(data.inputs.create).toContain("formatting blank device");
        expect(data.inputs.delete).toContain("umount");
        expect(unwrapSecret(data.inputs.connection).user).toBe("root");
    });

    it("protects data volumes when asked to", async () => {
        const v = haValues();
        v.cluster.protectDataVolumes = true;
        const { recorder } = await runProgram(v);
        expect(
            commandsNamed(recorder, "-data")
                .filter((c) => c.name !== "vps-1-data")
                .every((c) => c.protect),
        ).toBe(true);
    });
});
