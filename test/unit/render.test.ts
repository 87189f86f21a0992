/** Pure renderers and helpers, exercised directly (and, for shell quoting, through real bash). */
import { execFileSync } from "child_process";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { parseCredentials, renderFirewallRules, renderK3sConfig, rewriteKubeconfig } from "../../components/cluster";
import { durationMs } from "../../components/config";
import { cidrContains, parseCidr, parseIPv4 } from "../../components/net";
import { macFor, renderMetaData, renderNetworkConfig, renderUserData } from "../../components/nodes";
import { renderScriptCommand, shellQuote } from "../../components/remote";
import { FAKE_K3S_KUBECONFIG } from "../support/mocks";

describe("shell rendering", () => {
    const nasty = ["plain", "with space", "it's", `"double"`, "$HOME `id` $(id)", "multi\nline", "", "-dash", "*"];

    it("quotes any string into exactly one shell word", () => {
        for (const value of nasty) {
            const out = execFileSync("bash", ["-c", `printf '%s' ${shellQuote(value)}`], { encoding: "utf8" });
            expect(out).toBe(value);
        }
    });

    it("runs a script with its env, args and a secret on stdin", () => {
        const cmd = renderScriptCommand({
            script: 'set -euo pipefail\nsecret=$(cat)\nprintf "%s|%s|%s|%s" "$GREETING" "$1" "$2" "${#secret}"',
            name: "t.sh",
            env: { GREETING: "it's $HOME" },
            args: ["a b", "c'd"],
            sudo: false,
        });
        const out = execFileSync("sh", ["-c", cmd], { input: "s3cret", encoding: "utf8" });
        expect(out).toBe("it's $HOME|a b|c'd|6");
        expect(cmd).not.toContain("s3cret");
    });

    it("rejects environment names a shell could misread", () => {
        expect(() => renderScriptCommand({ script: "true", name: "x", env: { "A;rm": "1" } })).toThrow(
            /invalid environment variable/,
        );
    });
});

describe("cloud-init documents", () => {
    const userData = renderUserData({
        hostname: "cp-1",
        user: "ubuntu",
        sshPublicKey: "ssh-ed25519 AAAA test",
        dataVolumeScript: "#!/bin/bash\necho hi\n",
    });

    it("user-data creates the user with the key and runs the data-volume script", () => {
        expect(userData.startsWith("#cloud-config\n")).toBe(true);
        const doc = parse(userData);
        expect(doc.users[0]).toMatchObject({
            name: "ubuntu",
            ssh_authorized_keys: ["ssh-ed25519 AAAA test"],
            lock_passwd: true,
        });
        expect(doc.ssh_pwauth).toBe(false);
        expect(doc.write_files[0].content).toBe("#!/bin/bash\necho hi\n");
        expect(doc.runcmd[0]).toEqual([
            "env",
            "DEVICE=/dev/disk/by-id/virtio-kvmesh-data",
            "MOUNT_POINT=/var/lib/rancher",
            "LABEL=kvmesh-data",
            "/usr/local/sbin/kvmesh-data-volume",
        ]);
    });

    it("network-config v2 pins a static address to the NIC's MAC", () => {
        const doc = parse(
            renderNetworkConfig({
                mac: "52:54:00:aa:bb:cc",
                address: "192.0.2.21",
                prefix: 24,
                gateway: "192.0.2.1",
                nameservers: ["192.0.2.1"],
            }),
        );
        expect(doc).toEqual({
            version: 2,
            ethernets: {
                primary: {
                    match: { macaddress: "52:54:00:aa:bb:cc" },
                    "set-name": "eth0",
                    dhcp4: false,
                    dhcp6: false,
                    addresses: ["192.0.2.21/24"],
                    routes: [{ to: "default", via: "192.0.2.1" }],
                    nameservers: { addresses: ["192.0.2.1"] },
                },
            },
        });
        expect(parse(renderMetaData("cp-1"))).toEqual({ "instance-id": "cp-1", "local-hostname": "cp-1" });
    });

    it("derives stable, distinct, locally administered MACs", () => {
        expect(macFor("kvmesh-dev-cp-1")).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
        expect(macFor("kvmesh-dev-cp-1")).toBe(macFor("kvmesh-dev-cp-1"));
        expect(macFor("kvmesh-dev-cp-1")).not.toBe(macFor("kvmesh-dev-cp-2"));
    });
});

describe("k3s config", () => {
    const base = {
        nodeName: "n",
        nodeIp: "192.0.2.9",
        tlsSans: ["192.0.2.9"],
        clusterCidr: "10.42.0.0/16",
        serviceCidr: "10.43.0.0/16",
        labels: {},
        dataDir: "/var/lib/rancher/k3s",
    };

    it("refuses a joining node without a server URL and an agent that initialises", () => {
        expect(() => renderK3sConfig({ ...base, role: "agent", initial: false })).toThrow(/joinUrl/);
        expect(() => renderK3sConfig({ ...base, role: "agent", initial: true })).toThrow(/only a server/);
    });

    it("gives agents only what agents take", () => {
        const agent = parse(
            renderK3sConfig({
                ...base,
                role: "agent",
                initial: false,
                joinUrl: "https://x:6443",
                labels: { zone: "a" },
            }),
        );
        expect(agent).toEqual({
            "node-name": "n",
            "node-ip": "192.0.2.9",
            "data-dir": "/var/lib/rancher/k3s",
            server: "https://x:6443",
            "token-file": "/etc/rancher/k3s/cluster-token",
            "node-label": ["zone=a"],
        });
    });
});

describe("firewall rules", () => {
    it("lists each rule once and keeps agents' API port closed", () => {
        const rules = renderFirewallRules({
            role: "agent",
            adminCidrs: ["198.51.100.0/24"],
            peers: [{ address: "192.0.2.21", role: "server" }],
            clusterCidr: "10.42.0.0/16",
            serviceCidr: "10.43.0.0/16",
        });
        expect(rules).toEqual([
            "allow from 198.51.100.0/24 to any port 22 proto tcp",
            "allow from 192.0.2.21 to any port 10250 proto tcp",
            "allow from 192.0.2.21 to any port 8472 proto udp",
            "allow from 10.42.0.0/16",
            "allow from 10.43.0.0/16",
            "allow 80/tcp",
            "allow 443/tcp",
        ]);
    });
});

describe("kubeconfig and credentials", () => {
    it("points k3s's kubeconfig at the API endpoint and names it after the stack", () => {
        const kc = parse(rewriteKubeconfig(FAKE_K3S_KUBECONFIG, "https://192.0.2.21:6443", "kvmesh-dev"));
        expect(kc.clusters).toEqual([
            {
                name: "kvmesh-dev",
                cluster: { "certificate-authority-data": "ZmFrZS1jYQ==", server: "https://192.0.2.21:6443" },
            },
        ]);
        expect(kc.contexts).toEqual([{ name: "kvmesh-dev", context: { cluster: "kvmesh-dev", user: "kvmesh-dev" } }]);
        expect(kc.users[0].user["client-key-data"]).toBe("ZmFrZS1rZXk=");
        expect(() => rewriteKubeconfig("kind: Config\n", "https://x", "n")).toThrow(/no cluster/);
    });

    it("splits the credentials output and rejects a truncated one", () => {
        const out = `${Buffer.from("tok\n").toString("base64")}\n${Buffer.from("kc").toString("base64")}\n`;
        expect(parseCredentials(out)).toEqual({ token: "tok", kubeconfig: "kc" });
        expect(() => parseCredentials("abc\n")).toThrow(/incomplete/);
    });
});

describe("durations and addresses", () => {
    it.each([
        ["10s", 10_000],
        ["500ms", 500],
        ["1m30s", 90_000],
        ["1h", 3_600_000],
        ["10", undefined],
        ["1.5s", undefined],
        ["s", undefined],
        ["", undefined],
    ])("durationMs(%j) = %s", (text, ms) => expect(durationMs(text)).toBe(ms));

    it("parses IPv4 and CIDRs strictly", () => {
        expect(parseIPv4("192.0.2.1")).toBe(3221225985);
        expect(parseIPv4("192.0.2.256")).toBeUndefined();
        expect(parseIPv4("01.2.3.4")).toBeUndefined();
        expect(parseCidr("192.0.2.0/24")).toEqual({ network: 3221225984, prefix: 24 });
        expect(parseCidr("192.0.2.1/24")).toBeUndefined();
        const net = parseCidr("192.0.2.0/24")!;
        expect(cidrContains(net, parseIPv4("192.0.2.255")!)).toBe(true);
        expect(cidrContains(net, parseIPv4("192.0.3.0")!)).toBe(false);
    });
});
