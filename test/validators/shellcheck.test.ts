/** shellcheck on every shell script in the repository. */
import { execFileSync } from "child_process";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../fixtures/configs";
import { requireTool, run } from "../support/tools";

const scripts = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "*.sh", ".ci/run"], {
    cwd: ROOT,
    encoding: "utf8",
})
    .split("\n")
    .filter(Boolean);

describe("shellcheck", () => {
    const shellcheck = requireTool("shellcheck", "apt-get install shellcheck");

    it("finds the scripts it is meant to check", () => {
        expect(scripts).toEqual(
            expect.arrayContaining([
                "components/cluster/scripts/k3s-install.sh",
                "components/nodes/scripts/data-volume.sh",
                ".ci/run",
            ]),
        );
    });

    it("flags a broken script (the checker really runs)", () => {
        const r = run(shellcheck, ["-s", "bash", "-"], { input: "rm -rf $DIR/*\n[ $x == 1 ]\n" });
        expect(r.status).not.toBe(0);
        expect(r.stdout).toMatch(/SC2086|SC2115/);
    });

    it.each(scripts)("%s is clean", (file) => {
        const r = run(shellcheck, ["-x", path.join(ROOT, file)], { cwd: path.dirname(path.join(ROOT, file)) });
        expect(r.stdout + r.stderr).toBe("");
        expect(r.status).toBe(0);
    });
});
