/**
 * Each policy: a happy-path resource passes; one change per violation is caught. Then the whole
 * pack over everything the dev stack registers (recorded by the mocks, secrets marked as the
 * engine marks them) finds nothing.
 */
import type {
    Policy,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { afterEach, describe, expect, it } from "vitest";
import { devValues } from "../test/fixtures/configs";
import { runProgram } from "../test/support/program";
import { plain } from "../test/support/schemas";
import {
    MIGRATION_ANNOTATION,
    canaryRoutes,
    circuitBreakers,
    commandLogging,
    fqdn,
    isPinnedImage,
    kvmeshPolicies,
    mtlsMigration,
    mtlsStrict,
    pinnedImages,
    pinnedVersions,
    secretsNotPlaintext,
} from "./policies";
import { findSecretPaths, plaintextConfigValues, setStackConfig, withSecretPaths } from "./secrets";

type Props = Record<string, any>;

function resourceArgs(type: string, props: Props, secretPaths: string[] = []): ResourceValidationArgs {
    const marked = withSecretPaths(structuredClone(props), secretPaths);
    return {
        type,
        props: marked,
        urn: `urn:pulumi:dev::kvmesh::${type}::r`,
        name: "r",
        opts: {
            protect: false,
            ignoreChanges: [],
            aliases: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            additionalSecretOutputs: [],
        },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => ({}) as T,
        notApplicable: () => {
            throw new Error("not applicable");
        },
    } as unknown as ResourceValidationArgs;
}

function violations(policy: Policy, args: ResourceValidationArgs | StackValidationArgs): string[] {
    const out: string[] = [];
    const report = (message: string) => void out.push(message);
    if ("validateResource" in policy && policy.validateResource) {
        for (const validate of [(policy as ResourceValidationPolicy).validateResource!].flat())
            validate(args as ResourceValidationArgs, report);
    }
    if ("validateStack" in policy && policy.validateStack)
        (policy as StackValidationPolicy).validateStack(args as StackValidationArgs, report);
    return out;
}

function stackArgs(resources: { type: string; props: Props }[]): StackValidationArgs {
    return {
        resources: resources.map((r, i) => ({
            ...r,
            urn: `urn:${i}`,
            name: `r${i}`,
            opts: {},
            dependencies: [],
            propertyDependencies: {},
        })),
        stackTags: new Map(),
        getConfig: <T extends object>() => ({}) as T,
        notApplicable: () => {
            throw new Error("not applicable");
        },
    } as unknown as StackValidationArgs;
}

const PA = "kubernetes:security.istio.io/v1beta1:PeerAuthentication";
const DR = "kubernetes:networking.istio.io/v1beta1:DestinationRule";
const VS = "kubernetes:networking.istio.io/v1beta1:VirtualService";

const peerAuth = (mode = "STRICT", annotations: Props = {}) => ({
    apiVersion: "security.istio.io/v1beta1",
    kind: "PeerAuthentication",
    metadata: { name: "default", namespace: "default", annotations },
    spec: { mtls: { mode } },
});
const destinationRule = (subsets = ["v1", "v2"]) => ({
    metadata: { name: "my-app", namespace: "default" },
    spec: {
        host: "my-app",
        trafficPolicy: {
            connectionPool: { tcp: { maxConnections: 100 } },
            outlierDetection: {
                consecutive5xxErrors: 3,
                interval: "10s",
                baseEjectionTime: "30s",
                maxEjectionPercent: 100,
            },
        },
        subsets: subsets.map((name) => ({ name, labels: { version: name } })),
    },
});
const virtualService = (routes: [string, number | undefined][], host = "my-app") => ({
    metadata: { name: "my-app-route", namespace: "default" },
    spec: {
        hosts: [host],
        http: [
            {
                route: routes.map(([subset, weight]) => ({
                    destination: { host, subset },
                    ...(weight === undefined ? {} : { weight }),
                })),
            },
        ],
    },
});

describe("kvmesh-mtls-strict and kvmesh-mtls-migration", () => {
    it("pass STRICT", () => {
        expect(violations(mtlsStrict(), resourceArgs(PA, peerAuth()))).toEqual([]);
        expect(violations(mtlsMigration(), resourceArgs(PA, peerAuth()))).toEqual([]);
    });
    it.each(["PERMISSIVE", "DISABLE", "UNSET"])("flag %s", (mode) => {
        expect(violations(mtlsStrict(), resourceArgs(PA, peerAuth(mode)))).toEqual([
            expect.stringMatching(new RegExp(`spec.mtls.mode is ${mode}; set it to STRICT`)),
        ]);
    });
    it("flag a missing mode and a weak port-level mode", () => {
        const pa = peerAuth();
        delete (pa.spec as Props).mtls;
        expect(violations(mtlsStrict(), resourceArgs(PA, pa))).toHaveLength(1);
        const port = peerAuth();
        (port.spec as Props).portLevelMtls = { "8080": { mode: "DISABLE" } };
        expect(violations(mtlsStrict(), resourceArgs(PA, port))).toEqual([
            expect.stringMatching(/portLevelMtls.8080.mode is DISABLE/),
        ]);
    });
    it("leave a marked migration to the advisory policy, which reports it", () => {
        const marked = peerAuth("PERMISSIVE", { [MIGRATION_ANNOTATION]: "true" });
        expect(violations(mtlsStrict(), resourceArgs(PA, marked))).toEqual([]);
        expect(violations(mtlsMigration(), resourceArgs(PA, marked))).toEqual([
            expect.stringMatching(/PERMISSIVE for a migration/),
        ]);
        expect(mtlsMigration().enforcementLevel).toBe("advisory");
        expect(mtlsStrict("advisory").enforcementLevel).toBe("advisory");
    });
});

describe("kvmesh-circuit-breaker", () => {
    it("passes a DestinationRule with both halves", () => {
        expect(violations(circuitBreakers(), resourceArgs(DR, destinationRule()))).toEqual([]);
    });
    it.each(["connectionPool", "outlierDetection"])("flags a missing %s", (part) => {
        const dr = destinationRule();
        delete (dr.spec.trafficPolicy as Props)[part];
        expect(violations(circuitBreakers(), resourceArgs(DR, dr))).toEqual([
            expect.stringMatching(new RegExp(`trafficPolicy.${part} is missing`)),
        ]);
    });
});

describe("kvmesh-canary-routes (stack)", () => {
    const stack = (vs: Props, dr: Props = destinationRule()) =>
        stackArgs([
            { type: DR, props: dr },
            { type: VS, props: vs },
        ]);
    it("passes 90/10 to existing subsets, and a single unweighted route", () => {
        expect(
            violations(
                canaryRoutes(),
                stack(
                    virtualService([
                        ["v1", 90],
                        ["v2", 10],
                    ]),
                ),
            ),
        ).toEqual([]);
        expect(violations(canaryRoutes(), stack(virtualService([["v1", undefined]])))).toEqual([]);
    });
    it("flags weights that do not sum to 100 (80+10)", () => {
        expect(
            violations(
                canaryRoutes(),
                stack(
                    virtualService([
                        ["v1", 80],
                        ["v2", 10],
                    ]),
                ),
            ),
        ).toEqual([expect.stringMatching(/weights 80\+10 sum to 90, not 100/)]);
    });
    it("flags fractional weights", () => {
        expect(
            violations(
                canaryRoutes(),
                stack(
                    virtualService([
                        ["v1", 89.5],
                        ["v2", 10.5],
                    ]),
                ),
            ),
        ).toEqual([expect.stringMatching(/must all be integers/)]);
    });
    it("flags a route to a subset no DestinationRule defines", () => {
        expect(
            violations(
                canaryRoutes(),
                stack(
                    virtualService([
                        ["v1", 90],
                        ["v3", 10],
                    ]),
                ),
            ),
        ).toEqual([expect.stringMatching(/subset 'v3' of my-app/)]);
        expect(violations(canaryRoutes(), stack(virtualService([["v1", 100]]), destinationRule([])))).toHaveLength(1);
    });
    it("matches hosts across short and full names", () => {
        expect(fqdn("my-app", "default")).toBe("my-app.default.svc.cluster.local");
        expect(fqdn("my-app.shop", "default")).toBe("my-app.shop.svc.cluster.local");
        expect(
            violations(canaryRoutes(), stack(virtualService([["v1", 100]], "my-app.default.svc.cluster.local"))),
        ).toEqual([]);
    });
});

describe("kvmesh-supported-versions", () => {
    const release = (version?: string, tag?: string, chart = "istiod") => ({
        chart,
        version,
        values: { global: { tag } },
    });
    it("passes 1.21.6 and a supported k3s", () => {
        expect(
            violations(pinnedVersions(), resourceArgs("kubernetes:helm.sh/v3:Release", release("1.21.6", "1.21.6"))),
        ).toEqual([]);
        expect(
            violations(
                pinnedVersions(),
                resourceArgs("command:remote:Command", { create: "sudo env K3S_VERSION=v1.29.15+k3s1 bash -c x" }),
            ),
        ).toEqual([]);
    });
    it("flags another Istio chart version, image tag, or no pin at all", () => {
        expect(
            violations(pinnedVersions(), resourceArgs("kubernetes:helm.sh/v3:Release", release("1.22.0", "1.21.6"))),
        ).toEqual([expect.stringMatching(/version 1.22.0/)]);
        expect(
            violations(pinnedVersions(), resourceArgs("kubernetes:helm.sh/v3:Release", release("1.21.6", "latest"))),
        ).toEqual([expect.stringMatching(/tagged latest/)]);
        expect(
            violations(
                pinnedVersions(),
                resourceArgs("kubernetes:helm.sh/v3:Release", release(undefined, undefined, "/charts/base")),
            ),
        ).toEqual([expect.stringMatching(/pins neither/)]);
    });
    it("flags a k3s whose Kubernetes Istio 1.21 does not support", () => {
        expect(
            violations(
                pinnedVersions(),
                resourceArgs("command:remote:Command", { create: "sudo env K3S_VERSION=v1.31.4+k3s1 bash -c x" }),
            ),
        ).toEqual([expect.stringMatching(/Kubernetes 1.31/)]);
    });
});

describe("kvmesh-secret-data-is-secret", () => {
    const stack = {
        values: {
            "app:dbPassword": "hunter2-plain",
            "app:settings": JSON.stringify({ token: "tok-123456" }),
            "app:apiKey": "from-a-secret",
        },
        secretKeys: ["app:apiKey"],
    };
    afterEach(() => setStackConfig({ values: {}, secretKeys: [] }));

    it("passes values that are not plaintext config (secret config, generated, derived)", () => {
        setStackConfig(stack);
        const ok = { stringData: { password: "from-a-secret", other: "generated-elsewhere" } };
        expect(violations(secretsNotPlaintext(), resourceArgs("kubernetes:core/v1:Secret", ok))).toEqual([]);
    });

    it("flags a plaintext config value in stringData or (base64) data, naming the key, never the value", () => {
        setStackConfig(stack);
        const found = violations(
            secretsNotPlaintext(),
            resourceArgs("kubernetes:core/v1:Secret", { stringData: { password: "hunter2-plain" } }),
        );
        expect(found).toEqual([
            expect.stringMatching(
                /stringData.password is the plaintext config value app:dbPassword; .*--secret app:dbPassword/,
            ),
        ]);
        expect(found.join("")).not.toContain("hunter2");
        const nested = { data: { token: Buffer.from("tok-123456").toString("base64") } };
        expect(violations(secretsNotPlaintext(), resourceArgs("kubernetes:core/v1:Secret", nested))).toEqual([
            expect.stringMatching(/data.token is the plaintext config value app:settings.token/),
        ]);
    });

    it("reads plaintext strings out of structured config, skipping secret keys and short values", () => {
        const values = plaintextConfigValues({
            values: { "a:x": JSON.stringify({ deep: { s: "long-enough" }, n: 5, b: "tiny" }), "a:s": "secret-value" },
            secretKeys: ["a:s"],
        });
        expect([...values.entries()]).toEqual([["long-enough", "a:x.deep.s"]]);
    });
});

describe("kvmesh-pinned-images", () => {
    const deployment = (image: string, annotations: Props = {}) => ({
        spec: { template: { metadata: { annotations }, spec: { containers: [{ name: "app", image }] } } },
    });
    it.each(["quay.io/prometheus/prometheus:v2.53.2", "registry:5000/team/app:1.2", "nginx@sha256:" + "a".repeat(64)])(
        "passes %s",
        (image) => {
            expect(isPinnedImage(image)).toBe(true);
            expect(
                violations(pinnedImages(), resourceArgs("kubernetes:apps/v1:Deployment", deployment(image))),
            ).toEqual([]);
        },
    );
    it.each(["nginx", "nginx:latest", "registry:5000/team/app", "docker.io/grafana/grafana:latest"])(
        "flags %s",
        (image) => {
            expect(
                violations(pinnedImages(), resourceArgs("kubernetes:apps/v1:Deployment", deployment(image))),
            ).toEqual([expect.stringMatching(/pin a version tag or digest/)]);
        },
    );
    it("allows `auto` only where Istio's injector fills it in", () => {
        expect(
            violations(
                pinnedImages(),
                resourceArgs(
                    "kubernetes:apps/v1:Deployment",
                    deployment("auto", { "inject.istio.io/templates": "gateway" }),
                ),
            ),
        ).toEqual([]);
        expect(
            violations(pinnedImages(), resourceArgs("kubernetes:apps/v1:Deployment", deployment("auto"))),
        ).toHaveLength(1);
    });
});

describe("kvmesh-command-secret-logging", () => {
    it("passes a secret on stdin with logging off, and a command holding no secret", () => {
        expect(
            violations(
                commandLogging(),
                resourceArgs("command:remote:Command", { create: "x", stdin: "t", logging: "none" }, ["stdin"]),
            ),
        ).toEqual([]);
        expect(
            violations(
                commandLogging(),
                resourceArgs("command:remote:Command", { create: "x", connection: { privateKey: "k" } }, [
                    "connection",
                ]),
            ),
        ).toEqual([]);
    });
    it("flags a secret on stdin, in the command or in the environment while logging", () => {
        expect(
            violations(
                commandLogging(),
                resourceArgs("command:remote:Command", { create: "x", stdin: "t" }, ["stdin"]),
            ),
        ).toEqual([expect.stringMatching(/stdin holds a secret but logging is 'stdoutAndStderr'/)]);
        expect(
            violations(
                commandLogging(),
                resourceArgs("command:local:Command", { create: "x", logging: "stdout" }, ["create"]),
            ),
        ).toHaveLength(1);
        expect(
            violations(
                commandLogging(),
                resourceArgs("command:remote:Command", { create: "x", environment: { A: "1", TOKEN: "t" } }, [
                    "environment.TOKEN",
                ]),
            ),
        ).toEqual([expect.stringMatching(/^environment holds a secret/)]);
    });
});

describe("the whole pack over the dev stack", () => {
    it("finds nothing in what the dev stack registers", async () => {
        const { recorder } = await runProgram(devValues());
        const resources = recorder.resources
            .filter((r) => r.custom)
            .map((r) => ({ type: r.type, props: plain(r.inputs), secrets: findSecretPaths(r.inputs) }));
        expect(resources.length).toBeGreaterThan(40);
        // The engine marks the join token on stdin, the connection and the Grafana password secret.
        expect(resources.filter((r) => r.secrets.includes("stdin")).length).toBe(2);
        const found: string[] = [];
        for (const policy of kvmeshPolicies()) {
            if ("validateStack" in policy) {
                found.push(...violations(policy, stackArgs(resources)).map((v) => `${policy.name}: ${v}`));
                continue;
            }
            for (const r of resources) {
                found.push(
                    ...violations(policy, resourceArgs(r.type, r.props, r.secrets)).map((v) => `${policy.name}: ${v}`),
                );
            }
        }
        expect(found).toEqual([]);
    });
});
