/** The rendered user-data of every node, checked by the real `cloud-init schema`. */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { devValues, haValues } from "../fixtures/configs";
import { runProgram } from "../support/program";
import { commandEnv, requireTool, run, tempDir } from "../support/tools";

describe("cloud-init schema", () => {
    const cloudInit = requireTool("cloud-init", "apt-get install cloud-init");
    const dir = tempDir("cloud-init");
    const check = (text: string, name: string) => {
        const file = path.join(dir, name);
        fs.writeFileSync(file, text);
        return run(cloudInit, ["schema", "--config-file", file]);
    };

    it("rejects an invalid document (the validator really runs)", () => {
        const r = check("#cloud-config\nusers: 5\nruncmd: true\n", "bad");
        expect(r.status).not.toBe(0);
        expect(r.stdout + r.stderr).toMatch(/users: 5 is not of type/);
    });

    it.each([
        ["dev", devValues],
        ["ha", haValues],
    ])("accepts the user-data of every VM in the %s layout", async (layout, values) => {
        const { recorder } = await runProgram(values());
        const seeds = recorder.ofType("command:remote:Command").filter((c) => c.name.endsWith("-seed"));
        expect(seeds.length).toBeGreaterThanOrEqual(3);
        const roles = new Set<string>();
        for (const seed of seeds) {
            const env = commandEnv(seed.inputs.create);
            const r = check(env.USER_DATA, `${layout}-${seed.name}`);
            expect(r.stdout + r.stderr, seed.name).toMatch(/Valid cloud-config/);
            expect(r.status, seed.name).toBe(0);
            roles.add(seed.name);
        }
        expect(roles.size).toBe(seeds.length);
    });
});
