/**
 * The exact virt-install options each KvmNode produces, run by the real virt-install against
 * libvirt's test driver with the referenced pools and volumes, so an unknown option, a bad
 * value or a volume reference that does not match fails here and not on a hypervisor.
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { devValues, haValues } from "../fixtures/configs";
import { runProgram } from "../support/program";
import { commandArgs, requireTool, run, tempDir } from "../support/tools";

/** A test-driver node XML holding the pools and volumes the options refer to. */
function testDriverXml(args: string[]): string {
    const pools = new Map<string, Set<string>>();
    for (const arg of args) {
        const m = /(?:^|,)vol=([^/,]+)\/([^,]+)/.exec(arg);
        if (m) pools.set(m[1], (pools.get(m[1]) ?? new Set()).add(m[2]));
    }
    const poolXml = [...pools].map(([pool, vols], i) => {
        const dir = `/srv/${pool}`;
        const volXml = [...vols]
            .map(
                (v) =>
                    `<volume type='file'><name>${v}</name><capacity unit='G'>10</capacity><key>${dir}/${v}</key><target><path>${dir}/${v}</path><format type='${v.endsWith(".qcow2") ? "qcow2" : "raw"}'/></target></volume>`,
            )
            .join("");
        const uuid = `35bb2ad9-388a-cdfe-461a-b8907f6e53${String(10 + i).padStart(2, "0")}`;
        return `<pool type='dir'><name>${pool}</name><uuid>${uuid}</uuid><capacity unit='G'>1000</capacity><allocation>0</allocation><available unit='G'>1000</available><target><path>${dir}</path></target>${volXml}</pool>`;
    });
    return `<node>${poolXml.join("")}</node>`;
}

describe("virt-install against libvirt's test driver", () => {
    const virtInstall = requireTool("virt-install", "apt-get install virtinst libvirt-clients");
    const dir = tempDir("virt-install");
    const dryRun = (args: string[], name: string) => {
        const xml = path.join(dir, `${name}.xml`);
        fs.writeFileSync(xml, testDriverXml(args));
        return run(virtInstall, ["--connect", `test://${xml}`, ...args, "--dry-run"]);
    };

    it("fails on an option virt-install does not know (the check really runs)", async () => {
        const { recorder } = await runProgram(devValues());
        const args = commandArgs(recorder.named("cp-1-domain").inputs.create, "domain-create.sh");
        const r = dryRun([...args, "--no-such-option"], "bogus");
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/unrecognized arguments: --no-such-option/);
    });

    it("fails when a volume the options name does not exist", async () => {
        const { recorder } = await runProgram(devValues());
        const args = commandArgs(recorder.named("cp-1-domain").inputs.create, "domain-create.sh");
        const xml = path.join(dir, "empty.xml");
        fs.writeFileSync(
            xml,
            testDriverXml([]).replace(
                "<node>",
                "<node><pool type='dir'><name>default</name><target><path>/srv/default</path></target></pool>",
            ),
        );
        const r = run(virtInstall, ["--connect", `test://${xml}`, ...args, "--dry-run"]);
        expect(r.status).not.toBe(0);
    });

    it.each([
        ["dev", devValues],
        ["ha", haValues],
    ])("accepts every VM's options in the %s layout", async (layout, values) => {
        const { recorder } = await runProgram(values());
        const domains = recorder.ofType("command:remote:Command").filter((c) => c.name.endsWith("-domain"));
        expect(domains.length).toBeGreaterThanOrEqual(3);
        for (const domain of domains) {
            const args = commandArgs(domain.inputs.create, "domain-create.sh");
            expect(args).toContain("--import");
            const r = dryRun(args, `${layout}-${domain.name}`);
            expect(r.stderr, domain.name).not.toMatch(/ERROR|error:/);
            expect(r.stdout + r.stderr, domain.name).toMatch(/Dry run completed successfully/);
            expect(r.status, domain.name).toBe(0);
        }
    });
});
