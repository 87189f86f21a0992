/**
 * Recording Pulumi mocks: every registered resource is captured with its inputs and the
 * options the engine would see (dependencies, parent, deletedWith, protect, secrets...).
 * Unexpected invokes throw, so a component that starts calling a function is noticed.
 */
import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    parent: string;
    provider: string;
    inputs: Record<string, any>;
    /** Direct dependencies (dependsOn plus every Output input), as URNs. */
    dependencies: string[];
    deletedWith: string;
    protect: boolean;
    deleteBeforeReplace: boolean;
    replaceOnChanges: string[];
    additionalSecretOutputs: string[];
}

export class Recorder {
    readonly resources: RecordedResource[] = [];

    ofType(type: string): RecordedResource[] {
        return this.resources.filter((r) => r.type === type);
    }

    named(name: string, type?: string): RecordedResource {
        const found = this.resources.filter((r) => r.name === name && (type === undefined || r.type === type));
        if (found.length !== 1) throw new Error(`expected one resource named ${name}, found ${found.length}`);
        return found[0];
    }

    byUrn(urn: string): RecordedResource | undefined {
        return this.resources.find((r) => r.urn === urn);
    }

    /** True when `a` depends on `b`, directly or through other resources. */
    dependsOn(a: RecordedResource, b: RecordedResource): boolean {
        const seen = new Set<string>();
        const visit = (urn: string): boolean => {
            if (urn === b.urn) return true;
            if (seen.has(urn)) return false;
            seen.add(urn);
            return (this.byUrn(urn)?.dependencies ?? []).some(visit);
        };
        return a.dependencies.some(visit);
    }

    countByType(): Record<string, number> {
        const out: Record<string, number> = {};
        for (const r of this.resources) out[r.type] = (out[r.type] ?? 0) + 1;
        return out;
    }
}

/** A k3s admin kubeconfig as /etc/rancher/k3s/k3s.yaml looks (fake certificate data). */
export const FAKE_K3S_KUBECONFIG = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ZmFrZS1jYQ==
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: ZmFrZS1jZXJ0
    client-key-data: ZmFrZS1rZXk=
`;
export const FAKE_K3S_TOKEN = "K10fakefakefake::server:fake-test-token";

function outputsFor(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
    if (args.type === "command:remote:Command" && args.name.endsWith("-credentials")) {
        const b64 = (s: string) => Buffer.from(s).toString("base64");
        return { ...args.inputs, stdout: `${b64(FAKE_K3S_TOKEN)}\n${b64(FAKE_K3S_KUBECONFIG)}\n`, stderr: "" };
    }
    if (args.type.startsWith("command:")) return { ...args.inputs, stdout: "", stderr: "" };
    return args.inputs;
}

export interface MockOptions {
    /** Full config keys (`kvmesh:nodes`) to values; objects are JSON-encoded as the engine does. */
    config?: Record<string, unknown>;
    secretKeys?: string[];
    stack?: string;
    preview?: boolean;
}

export async function setupMocks(opts: MockOptions = {}): Promise<Recorder> {
    const recorder = new Recorder();
    const config = Object.fromEntries(
        Object.entries(opts.config ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    );
    pulumi.runtime.setAllConfig(config, opts.secretKeys ?? []);
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => ({ id: args.inputs.name ?? `${args.name}-id`, state: outputsFor(args) }),
            call: (args) => {
                throw new Error(`unexpected invoke ${args.token}`);
            },
        },
        "kvmesh",
        opts.stack ?? "dev",
        opts.preview ?? false,
    );

    // Wrap the mock monitor so the request's options are recorded along with the inputs.
    const monitor = (pulumi.runtime as unknown as { getMonitor(): any }).getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: unknown, resp: any) => void) =>
        register(req, (err: unknown, resp: any) => {
            if (!err) {
                recorder.resources.push({
                    urn: resp.getUrn(),
                    type: req.getType(),
                    name: req.getName(),
                    custom: req.getCustom(),
                    parent: req.getParent(),
                    provider: req.getProvider(),
                    inputs: req.getObject()?.toJavaScript() ?? {},
                    dependencies: req.getDependenciesList(),
                    deletedWith: req.getDeletedwith(),
                    protect: req.getProtect(),
                    deleteBeforeReplace: req.getDeletebeforereplace(),
                    replaceOnChanges: req.getReplaceonchangesList(),
                    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                });
            }
            callback(err, resp);
        });
    return recorder;
}

/** Wait until every resource registration in flight has reached the mock monitor. */
export async function settle(): Promise<void> {
    const runtime = pulumi.runtime as unknown as { waitForRPCs(): Promise<void> };
    await runtime.waitForRPCs();
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Pulumi's wire marker for a secret value (sdk/nodejs/runtime/rpc.ts). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** True when a recorded input value was sent to the engine as a secret. */
export function isSecretInput(value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** The value inside a recorded secret input (or the value itself). */
export function unwrapSecret<T = any>(value: unknown): T {
    return (isSecretInput(value) ? (value as { value: unknown }).value : value) as T;
}
