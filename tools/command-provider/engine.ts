/**
 * Messages to the Pulumi engine's log (pulumirpc.Engine/Log), attached to a resource URN. The
 * node provider framework has no logging for providers, so this opens its own client to the
 * engine address the plugin was started with (or told in Handshake/Attach).
 */
import * as grpc from "@grpc/grpc-js";
import * as enginerpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engineproto from "@pulumi/pulumi/proto/engine_pb";

export type Severity = "debug" | "info" | "warning" | "error";

const SEVERITY: Record<Severity, engineproto.LogSeverity> = {
    debug: engineproto.LogSeverity.DEBUG,
    info: engineproto.LogSeverity.INFO,
    warning: engineproto.LogSeverity.WARNING,
    error: engineproto.LogSeverity.ERROR,
};

export interface LogOptions {
    /** Status line (shown while the step runs, not kept in the Diagnostics summary). */
    ephemeral?: boolean;
    streamId?: number;
}

export class EngineLog {
    private client?: enginerpc.EngineClient;
    private address?: string;
    /** Messages go out one after another, in order. */
    private queue: Promise<void> = Promise.resolve();

    setAddress(address: string | undefined): void {
        if (!address || address === this.address) return;
        this.client?.close();
        this.address = address;
        this.client = new enginerpc.EngineClient(address, grpc.credentials.createInsecure(), {
            "grpc.max_receive_message_length": 400 * 1024 * 1024,
        });
    }

    /** Queue a message; never fails (problems go to the plugin's stderr). */
    log(severity: Severity, urn: string, message: string, opts: LogOptions = {}): Promise<void> {
        const client = this.client;
        if (!client) {
            process.stderr.write(`[${severity}] ${urn}: ${message}\n`);
            return this.queue;
        }
        const req = new engineproto.LogRequest();
        req.setSeverity(SEVERITY[severity]);
        req.setUrn(urn);
        req.setMessage(message);
        req.setStreamid(opts.streamId ?? 0);
        req.setEphemeral(opts.ephemeral ?? false);
        this.queue = this.queue.then(
            () =>
                new Promise<void>((resolve) => {
                    client.log(req, (err) => {
                        if (err) process.stderr.write(`command provider: engine log failed: ${err.message}\n`);
                        resolve();
                    });
                }),
        );
        return this.queue;
    }

    /** Resolves once every queued message was delivered (or failed). */
    flush(): Promise<void> {
        return this.queue;
    }
}
