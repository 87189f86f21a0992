/**
 * The pulumirpc.ResourceProvider service for `command` 1.2.1: command:remote:Command and
 * command:local:Command. Written against @pulumi/pulumi's generated protobuf code directly (not
 * its `provider.main`, which has no detailed diff, no preview flag and no engine log).
 */
import { randomBytes } from "crypto";
import * as grpc from "@grpc/grpc-js";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import * as plugproto from "@pulumi/pulumi/proto/plugin_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import { runCommand, Which } from "./command";
import { EngineLog } from "./engine";
import {
    ResourceType,
    asResourceType,
    buildOutputs,
    checkInputs,
    commandArgs,
    diffInputs,
    inputsOf,
    urnName,
    urnType,
} from "./resources";
import { PROVIDER_VERSION, packageSchema } from "./schema";
import { PropertyMap, UNKNOWN, Value, unwrap } from "./values";

type Callback<T> = (err: grpc.ServiceError | null, value?: T) => void;
interface Call<T> {
    request: T;
}

function toMap(s: structproto.Struct | undefined): PropertyMap {
    return (s?.toJavaScript() ?? {}) as PropertyMap;
}

function toStruct(m: PropertyMap): structproto.Struct {
    return structproto.Struct.fromJavaScript(m as Record<string, structproto.JavaScriptValue>);
}

function rpcError(e: unknown, code = grpc.status.UNKNOWN): grpc.ServiceError {
    const message = e instanceof Error ? e.message : String(e);
    return Object.assign(new Error(message), { code, details: message, metadata: new grpc.Metadata() });
}

function text(v: Value | undefined): string {
    const u = unwrap(v);
    return typeof u === "string" && u !== UNKNOWN ? u : "";
}

const DIFF_KIND: Record<string, provproto.PropertyDiff.Kind> = {
    add: provproto.PropertyDiff.Kind.ADD,
    addReplace: provproto.PropertyDiff.Kind.ADD_REPLACE,
    delete: provproto.PropertyDiff.Kind.DELETE,
    deleteReplace: provproto.PropertyDiff.Kind.DELETE_REPLACE,
    update: provproto.PropertyDiff.Kind.UPDATE,
    updateReplace: provproto.PropertyDiff.Kind.UPDATE_REPLACE,
};

/** What executes a create/update/delete; tests substitute a simulation (test/support). */
export type CommandRunner = typeof runCommand;

export class CommandProvider {
    readonly log = new EngineLog();
    private readonly running = new Set<AbortController>();

    constructor(
        engineAddress?: string,
        private readonly runner: CommandRunner = runCommand,
    ) {
        this.log.setAddress(engineAddress);
    }

    private typeOf(urn: string, type?: string): ResourceType {
        return asResourceType(type || urnType(urn));
    }

    /** Run a command with cancellation support (Cancel aborts everything in flight). */
    private async run(
        type: ResourceType,
        urn: string,
        props: PropertyMap,
        which: Which,
        command: string,
        previous: { stdout: string; stderr: string },
    ): Promise<{ stdout: string; stderr: string }> {
        const abort = new AbortController();
        this.running.add(abort);
        try {
            return await this.runner(type, commandArgs(type, props), which, command, previous, {
                urn,
                log: this.log,
                signal: abort.signal,
            });
        } finally {
            this.running.delete(abort);
        }
    }

    /** Wrap an async handler: exceptions become gRPC errors. */
    private static unary<Req, Res>(fn: (req: Req) => Promise<Res>) {
        return (call: Call<Req>, callback: Callback<Res>) => {
            fn(call.request).then(
                (res) => callback(null, res),
                (e) => callback(rpcError(e)),
            );
        };
    }

    service(): grpc.UntypedServiceImplementation {
        const u = CommandProvider.unary;
        return {
            handshake: u(async (req: provproto.ProviderHandshakeRequest) => {
                this.log.setAddress(req.getEngineAddress());
                const resp = new provproto.ProviderHandshakeResponse();
                resp.setAcceptSecrets(true);
                resp.setAcceptResources(true);
                resp.setAcceptOutputs(false);
                resp.setSupportsAutonamingConfiguration(false);
                return resp;
            }),
            attach: u(async (req: plugproto.PluginAttach) => {
                this.log.setAddress(req.getAddress());
                return new emptyproto.Empty();
            }),
            getPluginInfo: u(async () => new plugproto.PluginInfo().setVersion(PROVIDER_VERSION)),
            getSchema: u(async (req: provproto.GetSchemaRequest) => {
                if (req.getVersion() !== 0) throw new Error(`unsupported schema version ${req.getVersion()}`);
                return new provproto.GetSchemaResponse().setSchema(JSON.stringify(packageSchema()));
            }),
            checkConfig: u(async (req: provproto.CheckRequest) => {
                const resp = new provproto.CheckResponse();
                resp.setInputs(req.getNews() ?? new structproto.Struct());
                return resp;
            }),
            diffConfig: u(async () =>
                new provproto.DiffResponse().setChanges(provproto.DiffResponse.DiffChanges.DIFF_NONE),
            ),
            configure: u(async () => {
                const resp = new provproto.ConfigureResponse();
                resp.setAcceptsecrets(true);
                resp.setAcceptresources(true);
                resp.setAcceptoutputs(false);
                resp.setSupportspreview(true);
                return resp;
            }),
            cancel: u(async () => {
                for (const a of this.running) a.abort();
                return new emptyproto.Empty();
            }),
            check: u(async (req: provproto.CheckRequest) => {
                const type = this.typeOf(req.getUrn(), req.getType());
                const { inputs, failures } = checkInputs(type, toMap(req.getNews()));
                const resp = new provproto.CheckResponse();
                resp.setInputs(toStruct(inputs));
                resp.setFailuresList(
                    failures.map((f) => {
                        const cf = new provproto.CheckFailure();
                        cf.setProperty(f.property);
                        cf.setReason(f.reason);
                        return cf;
                    }),
                );
                return resp;
            }),
            diff: u(async (req: provproto.DiffRequest) => {
                const type = this.typeOf(req.getUrn(), req.getType());
                const d = diffInputs(type, toMap(req.getOlds()), toMap(req.getNews()), req.getIgnorechangesList());
                const resp = new provproto.DiffResponse();
                resp.setChanges(
                    d.changes
                        ? provproto.DiffResponse.DiffChanges.DIFF_SOME
                        : provproto.DiffResponse.DiffChanges.DIFF_NONE,
                );
                resp.setReplacesList(d.replaces);
                resp.setDiffsList(d.diffs);
                resp.setHasdetaileddiff(true);
                const detailed = resp.getDetaileddiffMap();
                for (const [path, change] of Object.entries(d.detailed)) {
                    const pd = new provproto.PropertyDiff();
                    pd.setKind(DIFF_KIND[change.replace ? `${change.kind}Replace` : change.kind]);
                    pd.setInputdiff(true);
                    detailed.set(path, pd);
                }
                return resp;
            }),
            create: u(async (req: provproto.CreateRequest) => {
                const urn = req.getUrn();
                const type = this.typeOf(urn, req.getType());
                const inputs = toMap(req.getProperties());
                const id = (req.getName() || urnName(urn)) + randomBytes(4).toString("hex");
                let outs: PropertyMap;
                if (req.getPreview()) {
                    outs = buildOutputs(type, inputs, UNKNOWN, UNKNOWN);
                } else {
                    const create = commandArgs(type, inputs).create;
                    const res =
                        create !== undefined
                            ? await this.run(type, urn, inputs, "create", create, { stdout: "", stderr: "" })
                            : { stdout: "", stderr: "" };
                    outs = buildOutputs(type, inputs, res.stdout, res.stderr);
                }
                const resp = new provproto.CreateResponse();
                resp.setId(id);
                resp.setProperties(toStruct(outs));
                return resp;
            }),
            read: u(async (req: provproto.ReadRequest) => {
                const type = this.typeOf(req.getUrn(), req.getType());
                const props = toMap(req.getProperties());
                const resp = new provproto.ReadResponse();
                resp.setId(req.getId());
                resp.setProperties(toStruct(props));
                resp.setInputs(req.getInputs() ?? toStruct(inputsOf(type, props)));
                return resp;
            }),
            update: u(async (req: provproto.UpdateRequest) => {
                const urn = req.getUrn();
                const type = this.typeOf(urn, req.getType());
                const olds = toMap(req.getOlds());
                const news = toMap(req.getNews());
                let outs: PropertyMap;
                if (req.getPreview()) {
                    outs = buildOutputs(type, news, UNKNOWN, UNKNOWN);
                } else {
                    const args = commandArgs(type, news);
                    const command = args.update ?? args.create;
                    const previous = { stdout: text(olds.stdout), stderr: text(olds.stderr) };
                    if (command !== undefined) {
                        const res = await this.run(
                            type,
                            urn,
                            news,
                            args.update !== undefined ? "update" : "create",
                            command,
                            previous,
                        );
                        outs = buildOutputs(type, news, res.stdout, res.stderr);
                    } else {
                        outs = buildOutputs(type, news, olds.stdout ?? "", olds.stderr ?? "");
                    }
                }
                return new provproto.UpdateResponse().setProperties(toStruct(outs));
            }),
            delete: u(async (req: provproto.DeleteRequest) => {
                const urn = req.getUrn();
                const type = this.typeOf(urn, req.getType());
                const props = toMap(req.getProperties());
                const del = commandArgs(type, props).delete;
                if (del !== undefined) {
                    await this.run(type, urn, props, "delete", del, {
                        stdout: text(props.stdout),
                        stderr: text(props.stderr),
                    });
                }
                return new emptyproto.Empty();
            }),
        };
    }
}
