/** Every workflow through actionlint (built from its Go module), which also shellchecks `run:` scripts. */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../fixtures/configs";
import { requireTool, run, tempDir, toolBinary } from "../support/tools";

const WORKFLOWS = path.join(ROOT, ".github", "workflows");

describe("actionlint", () => {
    const actionlint = toolBinary("actionlint", "actionlint");
    requireTool("shellcheck", "apt-get install shellcheck");
    const files = fs.readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml"));

    it("has the pull-request preview, cleanup and gc workflows", () => {
        expect(files.sort()).toEqual(["cleanup.yml", "gc.yml", "preview.yml"]);
    });

    it("flags a broken workflow, including shell problems in run: steps (the check really runs)", () => {
        const dir = tempDir("actionlint");
        const bad = path.join(dir, "bad.yml");
        fs.writeFileSync(
            bad,
            "on: pull_request\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n      - run: cd $HOME/x && ls $DIR/*\n      - uses: actions/checkout@v4\n        with: { bogus-input: 1 }\n",
        );
        const r = run(actionlint, ["-no-color", bad]);
        expect(r.status).not.toBe(0);
        expect(r.stdout).toMatch(/potentially untrusted/);
        expect(r.stdout).toMatch(/shellcheck reported issue/);
    });

    it.each(files)("%s is clean", (file) => {
        const r = run(actionlint, ["-no-color", path.join(WORKFLOWS, file)]);
        expect(r.stdout + r.stderr).toBe("");
        expect(r.status).toBe(0);
    });
});
