/**
 * Builds (or finds cached) the tool groups the tests use, once per test run, and hands their
 * bin directories to the tests. A cold build takes minutes; later runs take seconds.
 */
import { execFileSync } from "child_process";
import * as path from "path";
import type { TestProject } from "vitest/node";

/** Tool groups under tools/ that some test needs. */
export const TEST_TOOL_GROUPS = ["promtool", "actionlint"];

declare module "vitest" {
    export interface ProvidedContext {
        toolBins: Record<string, string>;
    }
}

export default function setup(project: TestProject): void {
    const root = path.resolve(__dirname, "..", "..");
    const out = execFileSync("bash", [path.join(root, "tools", "ensure.sh"), ...TEST_TOOL_GROUPS], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
    });
    const dirs = out.trim().split("\n");
    project.provide("toolBins", Object.fromEntries(TEST_TOOL_GROUPS.map((g, i) => [g, dirs[i]])));
}
