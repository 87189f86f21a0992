/** Run the whole kvmesh program (index.ts) under recording mocks. */
import { vi } from "vitest";
import { FAKE_PRIVATE_KEY, asEngineConfig } from "../fixtures/configs";
import { Recorder, settle, setupMocks } from "./mocks";

export interface ProgramRun {
    recorder: Recorder;
    program: typeof import("../../index");
}

export async function runProgram(
    values: Record<string, unknown>,
    secrets: Record<string, string> = { sshPrivateKey: FAKE_PRIVATE_KEY },
    opts: { stack?: string; plaintext?: string[] } = {},
): Promise<ProgramRun> {
    const { config, secretKeys } = asEngineConfig(values, secrets);
    const recorder = await setupMocks({
        config,
        secretKeys: secretKeys.filter((k) => !(opts.plaintext ?? []).includes(k.replace(/^kvmesh:/, ""))),
        stack: opts.stack,
    });
    vi.resetModules();
    const program = await import("../../index");
    await settle();
    return { recorder, program };
}

/** Run the program expecting the config to be rejected; returns the error message. */
export async function rejection(
    values: Record<string, unknown>,
    secrets?: Record<string, string>,
    opts: { plaintext?: string[] } = {},
): Promise<{ message: string; registered: number }> {
    const { config, secretKeys } = asEngineConfig(values, secrets ?? { sshPrivateKey: FAKE_PRIVATE_KEY });
    const recorder = await setupMocks({
        config,
        secretKeys: secretKeys.filter((k) => !(opts.plaintext ?? []).includes(k.replace(/^kvmesh:/, ""))),
    });
    vi.resetModules();
    try {
        await import("../../index");
    } catch (err) {
        await settle();
        return { message: (err as Error).message, registered: recorder.resources.length };
    }
    throw new Error("the program accepted a config that should have been rejected");
}
