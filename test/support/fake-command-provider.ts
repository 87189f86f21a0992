/**
 * A simulated `command` provider for full-stack tests: kvmesh's real provider (same gRPC surface,
 * diff and replace rules) with the SSH step swapped for a recorder, so the whole provisioned stack
 * can run through the real engine without hypervisors. Every command is appended to
 * $KVMESH_FAKE_HOSTS_LOG as JSON; the k3s credentials step answers with the kubeconfig in
 * $KVMESH_FAKE_KUBECONFIG (a real test API server), so the Kubernetes layer is real.
 * Started as a plugin through a launcher written by test/support/fullstack.ts. Test use only.
 */
import * as fs from "fs";
import { serve } from "../../tools/command-provider/main";
import { CommandProvider, CommandRunner } from "../../tools/command-provider/provider";

export const FAKE_TOKEN = "K10fakefullstack::server:fake-token";

/** The kvmesh script a rendered command runs (its $0), e.g. "k3s-install.sh". */
export function scriptOf(command: string): string {
    const m = /' ([a-z0-9-]+\.sh)(?: |$)/.exec(command);
    return m ? m[1] : command.split(" ")[0];
}

const runner: CommandRunner = async (_type, _args, which, command, _previous, ctx) => {
    const script = scriptOf(command);
    fs.appendFileSync(process.env.KVMESH_FAKE_HOSTS_LOG!, JSON.stringify({ urn: ctx.urn, which, script }) + "\n");
    if (script === "k3s-credentials.sh") {
        const b64 = (s: string) => Buffer.from(s).toString("base64");
        return {
            stdout: `${b64(FAKE_TOKEN)}\n${b64(fs.readFileSync(process.env.KVMESH_FAKE_KUBECONFIG!, "utf8"))}`,
            stderr: "",
        };
    }
    return { stdout: `${script} ${which} simulated`, stderr: "" };
};

if (require.main === module) serve((engine) => new CommandProvider(engine, runner));
