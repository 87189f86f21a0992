/** The pinned toolchain as a user gets it from tools/pulumi-env.sh. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../fixtures/configs";
import { pulumiEnv } from "../support/engine";
import { tempDir } from "../support/tools";

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));

describe("the pinned Pulumi toolchain", () => {
    it("reports the pinned CLI and the plugin versions the npm SDKs expect", () => {
        const env = pulumiEnv();
        const version = spawnSync("pulumi", ["version"], { env, encoding: "utf8" });
        expect(version.stdout.trim()).toBe("v3.260.0");
        const plugins = spawnSync("pulumi", ["plugin", "ls", "--json"], { env, encoding: "utf8" });
        const list = JSON.parse(plugins.stdout).map((p: { name: string; version: string }) => `${p.name} ${p.version}`);
        expect(list).toContain(`kubernetes ${pkg.dependencies["@pulumi/kubernetes"]}`);
        expect(list).toContain(`command ${pkg.dependencies["@pulumi/command"]}`);
    });

    it("uses a compatible pulumi already on PATH, and the pinned one otherwise", () => {
        const probe = (fakeVersion: string) => {
            const bin = tempDir("fake-pulumi");
            fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\necho ${fakeVersion}\n`, { mode: 0o755 });
            const r = spawnSync(
                "bash",
                ["-c", `source ${path.join(ROOT, "tools", "pulumi-env.sh")} && command -v pulumi`],
                {
                    env: {
                        ...process.env,
                        PATH: `${bin}:${process.env.PATH}`,
                        KVMESH_PULUMI_PLUGINS: "ambient",
                        KVMESH_PULUMI_PROVIDER_GROUPS: "command-provider",
                    },
                    encoding: "utf8",
                },
            );
            expect(r.status, r.stderr).toBe(0);
            return { found: r.stdout.trim(), bin };
        };
        const newer = probe("v3.270.0");
        expect(newer.found).toBe(path.join(newer.bin, "pulumi"));
        const older = probe("v3.100.0");
        // The build cache of tools/ensure.sh, wherever KVMESH_TOOLS_CACHE or XDG_CACHE_HOME put it.
        const cacheRoot =
            process.env.KVMESH_TOOLS_CACHE ??
            path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "kvmesh-tools");
        expect(path.dirname(path.dirname(path.dirname(older.found)))).toBe(cacheRoot);
        expect(older.found).toMatch(/\/pulumi-[0-9a-f]{16}\/bin\/pulumi$/);
    });
});
