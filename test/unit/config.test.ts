/**
 * Every validation rule: bad input in, a message naming the config path and the fix out,
 * and not a single resource registered.
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config";
import { devValues, haValues } from "../fixtures/configs";
import { rejection } from "../support/program";

type Values = Record<string, any>;
const dev = (change: (v: Values) => void): Values => {
    const v = devValues();
    change(v);
    return v;
};

async function expectRejected(
    values: Values,
    path: string,
    fragment: string | RegExp,
    secrets?: Record<string, string>,
) {
    const { message, registered } = await rejection(values, secrets);
    expect(registered, "no resource may be registered for an invalid config").toBe(0);
    const line = message.split("\n").find((l) => l.includes(`${path}:`));
    expect(line, `expected a problem at ${path} in:\n${message}`).toBeDefined();
    expect(line).toMatch(fragment);
    return message;
}

describe("config defaults", () => {
    it("gives a new dev stack the DESIGN.md seed values", () => {
        const cfg = parseStackConfig({ values: devValues(), secretsPresent: { sshPrivateKey: true } });
        expect(cfg.cluster.k3sVersion).toBe("v1.29.15+k3s1");
        expect(cfg.mesh.namespaces).toEqual(["default"]);
        expect(cfg.mesh.mtls.mode).toBe("STRICT");
        expect(cfg.mesh.defaultCircuitBreaker).toEqual({
            maxConnections: 100,
            http1MaxPendingRequests: 1,
            maxRequestsPerConnection: 1,
            consecutive5xxErrors: 3,
            interval: "10s",
            baseEjectionTime: "30s",
            maxEjectionPercent: 100,
        });
        expect(cfg.mesh.services.map((s) => s.name)).toEqual(["payment-service", "my-app"]);
        expect(cfg.mesh.services[1].canary?.routeName).toBe("my-app-route");
        expect(cfg.mesh.services[1].canary?.routes).toEqual([
            { subset: "v1", weight: 90 },
            { subset: "v2", weight: 10 },
        ]);
        expect(cfg.observability.prometheus.storageClass).toBe("local-path");
    });

    it("accepts the 3-server + agents HA layout", () => {
        const cfg = parseStackConfig({ values: haValues(), secretsPresent: { sshPrivateKey: true } });
        expect(cfg.nodes.filter((n) => n.role === "server")).toHaveLength(3);
    });
});

describe("config validation rejects, naming the path and the fix", () => {
    it("an unknown top-level key, suggesting the right one", async () => {
        const v = devValues();
        v.nodez = v.nodes;
        await expectRejected(v, "kvmesh:nodez", /not a kvmesh setting.*did you mean 'nodes'/);
    });

    it("an unknown nested key (typo)", async () => {
        await expectRejected(
            dev((v) => (v.nodes[0].memroyMiB = 4096)),
            "kvmesh:nodes[0]",
            /'memroyMiB' is not a setting.*did you mean 'memoryMiB'/,
        );
    });

    it("duplicate node names", async () => {
        await expectRejected(
            dev((v) => (v.nodes[2].name = "worker-1")),
            "kvmesh:nodes[2].name",
            /also the name of nodes\[1\]/,
        );
    });

    it("duplicate node addresses", async () => {
        await expectRejected(
            dev((v) => (v.nodes[1].address = "192.0.2.21")),
            "kvmesh:nodes[1].address",
            /also the address of nodes\[0\]/,
        );
    });

    it("no server node", async () => {
        await expectRejected(
            dev((v) => (v.nodes[0].role = "agent")),
            "kvmesh:nodes",
            /no node with role: server/,
        );
    });

    it("an even number of servers above one", async () => {
        await expectRejected(
            dev((v) => (v.nodes[1].role = "server")),
            "kvmesh:nodes",
            /2 servers.*odd number/,
        );
    });

    it("an address outside its network", async () => {
        await expectRejected(
            dev((v) => (v.nodes[1].address = "198.51.100.7")),
            "kvmesh:nodes[1].address",
            /outside kvmesh:network.cidr 192.0.2.0\/24/,
        );
    });

    it("an invalid CIDR", async () => {
        await expectRejected(
            dev((v) => (v.network.cidr = "192.0.2.0/33")),
            "kvmesh:network.cidr",
            /IPv4 CIDR/,
        );
        await expectRejected(
            dev((v) => (v.cluster.firewall.adminCidrs = ["198.51.100.5/24"])),
            "kvmesh:cluster.firewall.adminCidrs[0]",
            /no host bits/,
        );
    });

    it("a node naming an unknown hypervisor", async () => {
        await expectRejected(
            dev((v) => (v.nodes[2].hypervisor = "kvm-9")),
            "kvmesh:nodes[2].hypervisor",
            /'kvm-9' is not in kvmesh:hypervisors \(known: kvm-1\)/,
        );
    });

    it("a Kubernetes minor outside what Istio 1.21 supports", async () => {
        await expectRejected(
            dev((v) => (v.cluster.k3sVersion = "v1.30.6+k3s1")),
            "kvmesh:cluster.k3sVersion",
            /Kubernetes 1.30.*supports 1.26-1.29/,
        );
        await expectRejected(
            dev((v) => (v.cluster.k3sVersion = "v1.25.16+k3s4")),
            "kvmesh:cluster.k3sVersion",
            /Kubernetes 1.25/,
        );
    });

    it.each([
        ["diskGiB", 0, /positive/],
        ["dataGiB", -10, /positive/],
        ["cpus", 1.5, /whole number/],
        ["memoryMiB", 4096.5, /whole number/],
    ])("a non-positive or fractional %s (%s)", async (field, value, fragment) => {
        await expectRejected(
            dev((v) => (v.nodes[1][field] = value)),
            `kvmesh:nodes[1].${field}`,
            fragment,
        );
    });

    it("memory under k3s's minimum for the role", async () => {
        await expectRejected(
            dev((v) => (v.nodes[0].memoryMiB = 1024)),
            "kvmesh:nodes[0].memoryMiB",
            /below k3s's minimum of 2048 MiB for a server/,
        );
        await expectRejected(
            dev((v) => (v.nodes[1].memoryMiB = 256)),
            "kvmesh:nodes[1].memoryMiB",
            /minimum of 512 MiB for an agent/,
        );
    });

    it("libvirt nodes without an SSH private key", async () => {
        await expectRejected(
            devValues(),
            "kvmesh:sshPrivateKey",
            /pulumi config set --secret kvmesh:sshPrivateKey/,
            {},
        );
    });

    it("existing nodes without an SSH private key", async () => {
        const v = haValues();
        v.nodes = v.nodes.filter((n: Values) => n.backend === "existing");
        v.nodes[0].role = "server";
        await expectRejected(v, "kvmesh:sshPrivateKey", /is required to reach the hypervisors and nodes/, {});
    });

    it("a secret stored in plaintext", async () => {
        const { message, registered } = await rejection(
            devValues(),
            { sshPrivateKey: "x" },
            { plaintext: ["sshPrivateKey"] },
        );
        expect(registered).toBe(0);
        expect(message).toMatch(/kvmesh:sshPrivateKey: is stored in plaintext.*--secret/);
    });

    it("malformed durations", async () => {
        await expectRejected(
            dev((v) => (v.mesh = { defaultCircuitBreaker: { ...baseBreaker, interval: "10 seconds" } })),
            "kvmesh:mesh.defaultCircuitBreaker.interval",
            /positive duration such as 500ms, 10s/,
        );
        await expectRejected(
            dev((v) => (v.observability = { prometheus: { retention: "15days" } })),
            "kvmesh:observability.prometheus.retention",
            /Prometheus duration/,
        );
        await expectRejected(
            dev((v) => (v.mesh = { services: [{ name: "a", circuitBreaker: { baseEjectionTime: "0s" } }] })),
            "kvmesh:mesh.services[0].circuitBreaker.baseEjectionTime",
            /positive duration/,
        );
    });

    it("reports every problem at once", async () => {
        const v = dev((x) => {
            x.nodes[0].memoryMiB = 1024;
            x.nodes[1].hypervisor = "nope";
            x.cluster.k3sVersion = "v1.31.1+k3s1";
        });
        const { message } = await rejection(v);
        expect(message).toMatch(/3 problem\(s\)/);
        expect(message).toMatch(/nodes\[0\]\.memoryMiB/);
        expect(message).toMatch(/nodes\[1\]\.hypervisor/);
        expect(message).toMatch(/cluster\.k3sVersion/);
    });
});

const baseBreaker = {
    maxConnections: 100,
    http1MaxPendingRequests: 1,
    maxRequestsPerConnection: 1,
    consecutive5xxErrors: 3,
    interval: "10s",
    baseEjectionTime: "30s",
    maxEjectionPercent: 100,
};

const canaryService = (routes: { subset: string; weight: number }[], subsets = ["v1", "v2"]) => ({
    services: [
        {
            name: "my-app",
            canary: { subsets: subsets.map((s) => ({ name: s, labels: { version: s } })), routes },
        },
    ],
});

describe("mesh validation rejects, naming the path and the fix", () => {
    it("canary weights that do not sum to 100 (80+10)", async () => {
        await expectRejected(
            dev(
                (v) =>
                    (v.mesh = canaryService([
                        { subset: "v1", weight: 80 },
                        { subset: "v2", weight: 10 },
                    ])),
            ),
            "kvmesh:mesh.services[0].canary.routes",
            /weights 80\+10 sum to 90; they must sum to exactly 100/,
        );
    });

    it("fractional or out-of-range weights", async () => {
        await expectRejected(
            dev(
                (v) =>
                    (v.mesh = canaryService([
                        { subset: "v1", weight: 89.5 },
                        { subset: "v2", weight: 10.5 },
                    ])),
            ),
            "kvmesh:mesh.services[0].canary.routes[0].weight",
            /whole number from 0 to 100/,
        );
        await expectRejected(
            dev(
                (v) =>
                    (v.mesh = canaryService([
                        { subset: "v1", weight: 120 },
                        { subset: "v2", weight: -20 },
                    ])),
            ),
            "kvmesh:mesh.services[0].canary.routes[0].weight",
            /from 0 to 100/,
        );
    });

    it("duplicate subsets", async () => {
        await expectRejected(
            dev((v) => (v.mesh = canaryService([{ subset: "v1", weight: 100 }], ["v1", "v1"]))),
            "kvmesh:mesh.services[0].canary.subsets[1].name",
            /subset 'v1' is listed twice/,
        );
    });

    it("a route to a missing subset", async () => {
        await expectRejected(
            dev(
                (v) =>
                    (v.mesh = canaryService([
                        { subset: "v1", weight: 90 },
                        { subset: "v3", weight: 10 },
                    ])),
            ),
            "kvmesh:mesh.services[0].canary.routes[1].subset",
            /subset 'v3', which is not in canary.subsets \(v1, v2\)/,
        );
    });

    it("PERMISSIVE mTLS without the migration flag", async () => {
        await expectRejected(
            dev((v) => (v.mesh = { mtls: { mode: "PERMISSIVE" } })),
            "kvmesh:mesh.mtls.mode",
            /set mesh.mtls.migration: true/,
        );
    });

    it("sidecar injection into kube-system or istio-system", async () => {
        await expectRejected(
            dev((v) => (v.mesh = { namespaces: ["default", "kube-system"] })),
            "kvmesh:mesh.namespaces[1]",
            /'kube-system' must not get sidecar injection/,
        );
        await expectRejected(
            dev((v) => (v.mesh = { namespaces: ["istio-system"] })),
            "kvmesh:mesh.namespaces[0]",
            /'istio-system' must not get sidecar injection/,
        );
    });

    it("out-of-range circuit breaker numbers", async () => {
        await expectRejected(
            dev((v) => (v.mesh = { defaultCircuitBreaker: { ...baseBreaker, maxEjectionPercent: 150 } })),
            "kvmesh:mesh.defaultCircuitBreaker.maxEjectionPercent",
            /between 0 and 100/,
        );
        await expectRejected(
            dev((v) => (v.mesh = { services: [{ name: "a", circuitBreaker: { maxConnections: 0 } }] })),
            "kvmesh:mesh.services[0].circuitBreaker.maxConnections",
            /positive/,
        );
    });

    it("two services configuring one host (one DestinationRule per host)", async () => {
        await expectRejected(
            dev(
                (v) =>
                    (v.mesh = {
                        services: [
                            { name: "a", host: "shop" },
                            { name: "b", host: "shop" },
                        ],
                    }),
            ),
            "kvmesh:mesh.services[1].host",
            /exactly one DestinationRule per host/,
        );
    });

    it("a service in a namespace that is not in the mesh", async () => {
        await expectRejected(
            dev((v) => (v.mesh = { services: [{ name: "a", namespace: "shop" }] })),
            "kvmesh:mesh.services[0].namespace",
            /'shop' is not in mesh.namespaces/,
        );
    });
});
