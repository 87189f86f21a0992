/** The k3s cluster layer under recording mocks. */
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { devValues, haValues } from "../fixtures/configs";
import { FAKE_K3S_TOKEN, isSecretInput, promiseOf, unwrapSecret } from "../support/mocks";
import { runProgram } from "../support/program";

function k3sConfigOf(create: string): Record<string, any> {
    const m = /CONFIG_YAML='((?:[^']|'\\'')*)'/.exec(create);
    if (!m) throw new Error("no CONFIG_YAML in command");
    return parse(m[1].replace(/'\\''/g, "'"));
}

describe("k3s on the dev stack", () => {
    it("initialises etcd on the first server and joins the agents to it", async () => {
        const { recorder } = await runProgram(devValues());
        const first = k3sConfigOf(recorder.named("cluster-cp-1-k3s").inputs.create);
        expect(first["cluster-init"]).toBe(true);
        expect(first.server).toBeUndefined();
        expect(first.disable).toEqual(["traefik"]);
        expect(first["secrets-encryption"]).toBe(true);
        expect(first["node-ip"]).toBe("192.0.2.21");
        expect(first["tls-san"]).toEqual(["192.0.2.21"]);
        expect(first["data-dir"]).toBe("/var/lib/rancher/k3s");
        const agent = k3sConfigOf(recorder.named("cluster-worker-1-k3s").inputs.create);
        expect(agent.server).toBe("https://192.0.2.21:6443");
        expect(agent["token-file"]).toBe("/etc/rancher/k3s/cluster-token");
        expect(agent["cluster-init"]).toBeUndefined();
        expect(recorder.named("cluster-cp-1-k3s").inputs.create).toContain("K3S_VERSION=v1.29.15+k3s1");
    });

    it("bootstraps every node only after it is ready and its firewall is up", async () => {
        const { recorder } = await runProgram(devValues());
        for (const node of ["cp-1", "worker-1", "worker-2"]) {
            const k3s = recorder.named(`cluster-${node}-k3s`);
            expect(k3s.dependencies).toContain(recorder.named(`${node}-ready`).urn);
            expect(k3s.dependencies).toContain(recorder.named(`cluster-${node}-firewall`).urn);
            // Nothing on a VM needs a delete command: the VM's deletion takes it along.
            expect(k3s.inputs.delete, node).toBeUndefined();
        }
    });

    it("redoes every step on a rebuilt machine (keyed to its readiness step); on a rented one, cleans up first", async () => {
        const { recorder } = await runProgram(haValues());
        for (const step of ["firewall", "token", "k3s"]) {
            const vm = recorder.named(`cluster-worker-1-${step}`);
            expect(vm.inputs.triggers, step).toEqual(["worker-1-ready-id"]);
            // Replacing create-first keeps replacements from cascading into dependents.
            expect(vm.deleteBeforeReplace, step).toBe(false);
            const rented = recorder.named(`cluster-vps-1-${step}`);
            expect(rented.inputs.triggers, step).toEqual(["vps-1-data-id"]);
            expect(rented.deleteBeforeReplace, step).toBe(true);
        }
        // Credentials are re-read for a new cluster (new data volume), not for a rebuilt VM.
        const creds = recorder.named("cluster-credentials");
        expect(creds.inputs.triggers).toEqual(["cp-1-data-id"]);
        expect(creds.deletedWith).toBe("");
        expect(creds.dependencies).toContain(recorder.named("cluster-cp-1-k3s").urn);
    });

    it("hands joining nodes the token on stdin of a non-logging command, never on a command line", async () => {
        const { recorder } = await runProgram(devValues());
        const token = recorder.named("cluster-worker-1-token");
        expect(isSecretInput(token.inputs.stdin)).toBe(true);
        expect(unwrapSecret(token.inputs.stdin)).toBe(FAKE_K3S_TOKEN);
        expect(token.inputs.logging).toBe("none");
        const install = recorder.named("cluster-worker-1-k3s");
        expect(install.dependencies).toContain(token.urn);
        expect(install.inputs.stdin).toBeUndefined();
        for (const cmd of recorder.ofType("command:remote:Command")) {
            expect(JSON.stringify([cmd.inputs.create, cmd.inputs.delete]), cmd.name).not.toContain(FAKE_K3S_TOKEN);
        }
        expect(recorder.dependsOn(install, recorder.named("cluster-cp-1-k3s"))).toBe(true);
        // The first server creates the token; it gets none.
        expect(recorder.resources.some((r) => r.name === "cluster-cp-1-token")).toBe(false);
    });

    it("reads the credentials with logging off and the output stored as a secret", async () => {
        const { recorder } = await runProgram(devValues());
        const creds = recorder.named("cluster-credentials");
        expect(creds.inputs.logging).toBe("none");
        expect(creds.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout"]));
        expect(creds.inputs.addPreviousOutputInEnv).toBe(false);
    });

    it("exports the kubeconfig as a secret, pointed at the first server", async () => {
        const { program, recorder } = await runProgram(devValues());
        expect(await pulumi.isSecret(program.kubeconfig)).toBe(true);
        const kc = parse(await promiseOf(program.kubeconfig));
        expect(kc.clusters[0].cluster.server).toBe("https://192.0.2.21:6443");
        expect(kc["current-context"]).toBe("kvmesh-dev");
        const provider = recorder.ofType("pulumi:providers:kubernetes")[0];
        expect(isSecretInput(provider.inputs.kubeconfig)).toBe(true);
    });

    it("opens only SSH and the API to admins, the k3s ports to peers, and 80/443", async () => {
        const { recorder } = await runProgram(devValues());
        const fw: string = recorder.named("cluster-cp-1-firewall").inputs.create;
        expect(fw).toContain("'allow from 198.51.100.0/24 to any port 22 proto tcp'");
        expect(fw).toContain("'allow from 198.51.100.0/24 to any port 6443 proto tcp'");
        expect(fw).toContain("'allow from 192.0.2.22 to any port 8472 proto udp'");
        expect(fw).toContain("allow 443/tcp");
        const agentFw: string = recorder.named("cluster-worker-1-firewall").inputs.create;
        expect(agentFw).not.toContain("port 6443");
    });
});

describe("k3s on the HA layout (3 servers, 5 agents)", () => {
    it("joins servers one at a time, agents after the first server", async () => {
        const { recorder } = await runProgram(haValues());
        const k3s = (n: string) => recorder.named(`cluster-${n}-k3s`);
        expect(recorder.dependsOn(k3s("cp-2"), k3s("cp-1"))).toBe(true);
        expect(recorder.dependsOn(k3s("cp-3"), k3s("cp-2"))).toBe(true);
        for (const agent of ["worker-1", "worker-2", "worker-3", "worker-4", "vps-1"]) {
            expect(recorder.dependsOn(k3s(agent), k3s("cp-1")), agent).toBe(true);
            // Agents do not wait for the other servers.
            expect(recorder.dependsOn(k3s(agent), k3s("cp-3")), agent).toBe(false);
        }
        const joiner = k3sConfigOf(k3s("cp-3").inputs.create);
        expect(joiner.server).toBe("https://k8s.example.internal:6443");
        expect(joiner["tls-san"]).toEqual(["k8s.example.internal", "192.0.2.31", "192.0.2.32", "192.0.2.33"]);
        expect(joiner["cluster-init"]).toBeUndefined();
    });

    it("checks each joined node in from the first server, and drains and deletes it there when it leaves", async () => {
        const { recorder } = await runProgram(haValues());
        const hostOf = (name: string) => unwrapSecret(recorder.named(name).inputs.connection).host;
        expect(hostOf("cluster-cp-1-k3s")).toBe("192.0.2.31");
        expect(recorder.resources.some((r) => r.name === "cluster-cp-1-member")).toBe(false);
        for (const node of ["cp-2", "cp-3", "worker-1", "vps-1"]) {
            const member = recorder.named(`cluster-${node}-member`);
            expect(hostOf(`cluster-${node}-member`), node).toBe("192.0.2.31");
            expect(member.inputs.create, node).toContain(`NODE_NAME=${node} bash`);
            expect(member.inputs.create, node).toContain("kubectl wait --for=condition=Ready");
            expect(member.inputs.delete, node).toContain(`NODE_NAME=${node} bash`);
            expect(member.inputs.delete, node).toContain("kubectl drain");
            expect(member.dependencies, node).toContain(recorder.named(`cluster-${node}-k3s`).urn);
            // A rebuilt machine rejoins as the same member: nothing may remove it first.
            expect(member.inputs.triggers, node).toBeUndefined();
            // Nothing to drain when the whole cluster goes with the first server's data volume.
            expect(member.deletedWith, node).toBe(recorder.named("cp-1-data").urn);
            // The layers above start on a cluster whose nodes are all Ready.
            expect(recorder.named("cluster-k8s").dependencies, node).toContain(member.urn);
        }
    });

    it("uninstalls k3s from the rented VPS on destroy, but not from VMs that are deleted anyway", async () => {
        const { recorder } = await runProgram(haValues());
        expect(recorder.named("cluster-vps-1-k3s").inputs.delete).toContain("k3s removed");
        expect(recorder.named("cluster-worker-1-k3s").inputs.delete).toBeUndefined();
    });

    it("opens etcd peer ports between servers only", async () => {
        const { recorder } = await runProgram(haValues());
        const server: string = recorder.named("cluster-cp-1-firewall").inputs.create;
        expect(server).toContain("'allow from 192.0.2.32 to any port 2379:2380 proto tcp'");
        expect(server).not.toContain("'allow from 192.0.2.34 to any port 2379:2380 proto tcp'");
    });
});

describe("existing cluster mode", () => {
    it("provisions no nodes and uses the kubeconfig secret", async () => {
        const { recorder, program } = await runProgram(
            { cluster: { mode: "existing" } },
            { kubeconfig: "apiVersion: v1\nkind: Config\n" },
        );
        expect(recorder.ofType("command:remote:Command")).toHaveLength(0);
        expect(recorder.ofType("kvmesh:cluster:ExistingCluster")).toHaveLength(1);
        expect(await pulumi.isSecret(program.kubeconfig)).toBe(true);
        const provider = recorder.ofType("pulumi:providers:kubernetes")[0];
        expect(unwrapSecret(provider.inputs.kubeconfig)).toBe("apiVersion: v1\nkind: Config\n");
    });
});
