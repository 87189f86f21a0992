/**
 * The hypervisor scripts themselves, run by bash against libvirt's test driver (virsh and
 * virt-install for real, a node described in XML instead of a hypervisor). Each virsh call sees
 * the XML afresh, so this checks every single step and its idempotence: options virsh accepts,
 * what happens when a volume or domain is already there or already gone, refusals.
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { ROOT, devValues } from "../fixtures/configs";
import { runProgram } from "../support/program";
import { commandArgs, commandEnv, requireTool, run, tempDir } from "../support/tools";

const SCRIPTS = path.join(ROOT, "components", "nodes", "scripts");
const vol = (pool: string, name: string, format: string) =>
    `<volume type='file'><name>${name}</name><capacity unit='M'>1</capacity><key>/srv/${pool}/${name}</key><target><path>/srv/${pool}/${name}</path><format type='${format}'/></target></volume>`;
const pool = (name: string, uuid: string, volumes: string[]) =>
    `<pool type='dir'><name>${name}</name><uuid>${uuid}</uuid><capacity unit='G'>1000</capacity><allocation>0</allocation><available unit='G'>1000</available><target><path>/srv/${name}</path></target>${volumes.join("")}</pool>`;

describe("hypervisor scripts against libvirt's test driver", () => {
    requireTool("virsh", "apt-get install libvirt-clients");
    requireTool("virt-install", "apt-get install virtinst");
    const dir = tempDir("libvirt-scripts");
    const xml = path.join(dir, "node.xml");
    // A hypervisor holding the dev stack's base image, cp-1's disks and seed, and an old VM.
    fs.writeFileSync(
        xml,
        `<node><domain type='test'><name>kvmesh-dev-old</name><memory>524288</memory><os><type>hvm</type></os></domain>` +
            pool("default", "35bb2ad9-388a-cdfe-461a-b8907f6e53fe", [
                vol("default", "kvmesh-dev-jammy-20250429.qcow2", "qcow2"),
                vol("default", "kvmesh-dev-cp-1-root.qcow2", "qcow2"),
                vol("default", "kvmesh-dev-cp-1-seed.iso", "raw"),
            ]) +
            pool("nvme", "45bb2ad9-388a-cdfe-461a-b8907f6e53fe", [
                vol("nvme", "kvmesh-dev-cp-1-data", "raw"),
                vol("nvme", "kvmesh-dev-old-data", "raw"),
            ]) +
            `</node>`,
    );
    const uri = `test://${xml}`;
    const script = (file: string, env: Record<string, string>, args: string[] = []) =>
        run("bash", [path.join(SCRIPTS, file), ...args], { env: { ...process.env, LIBVIRT_URI: uri, ...env } });

    /** The env and arguments the dev stack renders for a step, pointed at the test driver. */
    async function rendered(resource: string) {
        // The test driver's pools hold 100 GiB: worker-1's data volume is 50 GiB here.
        const values = devValues();
        values.nodes[1].dataGiB = 50;
        const { recorder } = await runProgram(values);
        const create: string = recorder.named(resource).inputs.create;
        return { env: { ...commandEnv(create), LIBVIRT_URI: uri }, create };
    }

    it("creates the root disk on the base image and the data volume exactly as the dev stack renders them", async () => {
        for (const [resource, expected] of [
            ["worker-1-root", "volume default/kvmesh-dev-worker-1-root.qcow2 created (30 GiB)"],
            ["worker-1-data", "volume nvme/kvmesh-dev-worker-1-data created (50 GiB)"],
        ]) {
            const { env } = await rendered(resource);
            const r = script("volume-create.sh", env);
            expect(r.stderr, resource).toBe("");
            expect(r.stdout.trim(), resource).toBe(expected);
        }
    });

    it("leaves an existing volume alone, and refuses a missing pool or a format virsh does not know", () => {
        expect(
            script("volume-create.sh", {
                POOL: "nvme",
                VOLUME: "kvmesh-dev-cp-1-data",
                CAPACITY_GIB: "100",
                FORMAT: "",
            }).stdout,
        ).toMatch(/already present/);
        const missing = script("volume-create.sh", { POOL: "ssd", VOLUME: "x", CAPACITY_GIB: "1", FORMAT: "" });
        expect(missing.status).not.toBe(0);
        expect(missing.stderr).toMatch(/storage pool 'ssd' does not exist/);
        const bogus = script("volume-create.sh", { POOL: "nvme", VOLUME: "x", CAPACITY_GIB: "1", FORMAT: "bogus" });
        expect(bogus.status).not.toBe(0);
        expect(bogus.stderr).toMatch(/unknown volume format type bogus/);
    });

    it("deletes volumes, and treats a volume or pool that is already gone as done", () => {
        expect(script("volume-delete.sh", { POOL: "default", VOLUME: "kvmesh-dev-cp-1-root.qcow2" }).stdout).toMatch(
            /deleted/,
        );
        expect(script("volume-delete.sh", { POOL: "default", VOLUME: "nope" }).stdout).toMatch(/already gone/);
        const gonePool = script("volume-delete.sh", { POOL: "ssd", VOLUME: "x" });
        expect(gonePool.status).toBe(0);
        expect(gonePool.stdout).toMatch(/pool ssd is gone/);
    });

    it("defines cp-1 with the dev stack's virt-install options, and leaves an existing domain alone", async () => {
        const { env, create } = await rendered("cp-1-domain");
        const r = script("domain-create.sh", env, commandArgs(create, "domain-create.sh"));
        expect(r.stderr).not.toMatch(/ERROR|error:/);
        expect(r.stdout).toMatch(/domain kvmesh-dev-cp-1 created/);
        expect(r.status).toBe(0);
        expect(script("domain-create.sh", { DOMAIN: "kvmesh-dev-old" }).stdout).toMatch(/already defined/);
    });

    it("stops and undefines a domain, and treats one that is already gone as done", () => {
        expect(script("domain-delete.sh", { DOMAIN: "kvmesh-dev-old" }).stdout).toMatch(
            /domain kvmesh-dev-old deleted/,
        );
        expect(script("domain-delete.sh", { DOMAIN: "kvmesh-dev-nope" }).stdout).toMatch(/already gone/);
    });

    it("keeps an existing base image, and refuses a download whose SHA-256 does not match", () => {
        expect(
            script("base-image.sh", {
                POOL: "default",
                VOLUME: "kvmesh-dev-jammy-20250429.qcow2",
                URL: "file:///nonexistent",
                SHA256: "0".repeat(64),
            }).stdout,
        ).toMatch(/already present/);
        const image = path.join(dir, "image");
        fs.writeFileSync(image, "not the pinned image");
        const r = script("base-image.sh", {
            POOL: "default",
            VOLUME: "new.qcow2",
            URL: `file://${image}`,
            SHA256: "0".repeat(64),
        });
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/does not match the pinned SHA-256 0{64}; refusing to use it/);
    });
});
