/**
 * Builds (or finds cached) the tool groups the tests use, once per test run, and hands their
 * bin directories to the tests. A cold build takes minutes; later runs take seconds.
 */
import { execFileSync } from "child_process";
import * as path from "path";
import type { TestProject } from "vitest/node";

/** Tool groups under tools/ that some test needs. */
export const TEST_TOOL_GROUPS = ["promtool", "actionlint", "kube", "kube-kwok"];

declare module "vitest" {
    export interface ProvidedContext {
        toolBins: Record<string, string>;
        /** Environment set by tools/pulumi-env.sh: the pinned CLI on PATH, offline switches. */
        pulumiEnv: Record<string, string>;
    }
}

/** Provider plugin groups the engine tests load. */
export const PROVIDER_GROUPS = "pulumi-kubernetes command-provider";

export default function setup(project: TestProject): void {
    const root = path.resolve(__dirname, "..", "..");
    const out = execFileSync("bash", [path.join(root, "tools", "ensure.sh"), ...TEST_TOOL_GROUPS], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
    });
    const dirs = out.trim().split("\n");
    project.provide("toolBins", Object.fromEntries(TEST_TOOL_GROUPS.map((g, i) => [g, dirs[i]])));

    // The Pulumi CLI and provider plugins, exactly as `npm run preview` gets them.
    const dump = execFileSync("bash", ["-c", `source ${path.join(root, "tools", "pulumi-env.sh")} >&2 && env -0`], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, KVMESH_PULUMI_PROVIDER_GROUPS: PROVIDER_GROUPS },
        maxBuffer: 16 * 1024 * 1024,
    });
    const env: Record<string, string> = {};
    for (const entry of dump.split("\0").filter(Boolean)) {
        const eq = entry.indexOf("=");
        env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    project.provide("pulumiEnv", {
        PATH: env.PATH,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_HOME: env.PULUMI_HOME ?? path.join(process.env.HOME ?? "/root", ".pulumi"),
    });
}
