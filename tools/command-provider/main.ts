/**
 * pulumi-resource-command: kvmesh's implementation of the `command` provider plugin, version
 * 1.2.1 (command:remote:Command, command:local:Command). The engine starts it with its own gRPC
 * address as the first argument (after optional `--logtostderr`, `-v=N`, `--tracing X`) and reads
 * the port we listen on from the first line of stdout.
 */
import * as grpc from "@grpc/grpc-js";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import { CommandProvider } from "./provider";
import { PROVIDER_VERSION } from "./schema";

function engineAddress(argv: string[]): string | undefined {
    const rest: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--logtostderr" || a.startsWith("-v=")) continue;
        if (a === "--tracing") {
            i++;
            continue;
        }
        rest.push(a);
    }
    return rest[0];
}

/** Serve a provider the way the engine expects a plugin to. */
export function serve(makeProvider: (engineAddress?: string) => CommandProvider): void {
    const argv = process.argv.slice(2);
    if (argv[0] === "--version" || argv[0] === "version") {
        process.stdout.write(`${PROVIDER_VERSION}\n`);
        return;
    }
    const provider = makeProvider(engineAddress(argv));
    const limits = {
        "grpc.max_receive_message_length": 400 * 1024 * 1024,
        "grpc.max_send_message_length": 400 * 1024 * 1024,
    };
    const server = new grpc.Server(limits);
    server.addService(provrpc.ResourceProviderService, provider.service());
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err) {
            process.stderr.write(`pulumi-resource-command: cannot listen: ${err.message}\n`);
            process.exit(1);
        }
        process.stdout.write(`${port}\n`);
    });
    // A stray error in the SSH library must not take down operations in flight.
    process.on("uncaughtException", (e) =>
        process.stderr.write(`pulumi-resource-command: uncaught: ${e.stack ?? e}\n`),
    );
}

if (require.main === module) serve((engine) => new CommandProvider(engine));
