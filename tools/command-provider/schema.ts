/**
 * The package schema returned by GetSchema: the two resources this provider implements, with the
 * property names, types, defaults and secrets of the official command 1.2.1 schema (descriptions
 * shortened). The engine does not need it for programs using the generated @pulumi/command SDK;
 * it is there for tools that ask (`pulumi package get-schema`, converters).
 */
export const PROVIDER_VERSION = "1.2.1";

type Spec = Record<string, unknown>;

const str = (description: string): Spec => ({ type: "string", description });

function connectionType(proxy: boolean): Spec {
    const props: Record<string, Spec> = {
        host: str(
            proxy ? "The address of the bastion host to connect to." : "The address of the resource to connect to.",
        ),
        port: { type: "number", default: 22, description: "The port to connect to. Defaults to 22." },
        user: { type: "string", default: "root", description: "The user that we should use for the connection." },
        password: str("The password we should use for the connection."),
        privateKey: str(
            "The contents of an SSH key to use for the connection. This takes preference over the password if provided.",
        ),
        privateKeyPassword: str("The password to use in case the private key is encrypted."),
        agentSocketPath: str("SSH Agent socket path. Default to environment variable SSH_AUTH_SOCK if present."),
        dialErrorLimit: {
            type: "integer",
            default: 10,
            description:
                "Max allowed errors on trying to dial the remote host. -1 set count to unlimited. Default value is 10.",
        },
        perDialTimeout: {
            type: "integer",
            default: 15,
            description:
                "Max number of seconds for each dial attempt. 0 implies no maximum. Default value is 15 seconds.",
        },
        hostKey: str(
            "The expected host key to verify the server's identity. If not provided, the host key will be ignored.",
        ),
    };
    if (!proxy) {
        props.proxy = {
            $ref: "#/types/command:remote:ProxyConnection",
            description: "The connection settings for the bastion/proxy host.",
        };
    }
    return {
        type: "object",
        description: proxy
            ? "Instructions for how to connect to a remote endpoint via a bastion host."
            : "Instructions for how to connect to a remote endpoint.",
        properties: props,
        required: ["host"],
    };
}

function loggingEnum(): Spec {
    return {
        type: "string",
        enum: [
            { name: "stdout", value: "stdout", description: "Capture stdout in logs but not stderr" },
            { name: "stderr", value: "stderr", description: "Capture stderr in logs but not stdout" },
            { name: "stdoutAndStderr", value: "stdoutAndStderr", description: "Capture stdout and stderr in logs" },
            { name: "none", value: "none", description: "Capture no logs" },
        ],
    };
}

function commonInputs(module: "local" | "remote"): Record<string, Spec> {
    return {
        create: str("The command to run once on resource creation (and on updates when there is no `update`)."),
        update: str("The command to run when the resource is updated. If empty, the create command is run instead."),
        delete: str("The command to run on resource deletion."),
        stdin: str("Pass a string to the command's process as standard in"),
        environment: {
            type: "object",
            additionalProperties: { type: "string" },
            description: "Additional environment variables available to the command's process.",
        },
        triggers: {
            type: "array",
            items: { $ref: "pulumi.json#/Any" },
            replaceOnChanges: true,
            description: "The resource will be replaced if any of these values change.",
        },
        logging: {
            $ref: `#/types/command:${module}:Logging`,
            description: "If the command's stdout and stderr should be logged.",
        },
        addPreviousOutputInEnv: {
            type: "boolean",
            default: true,
            description:
                "If the previous command's stdout and stderr are passed as PULUMI_COMMAND_STDOUT and PULUMI_COMMAND_STDERR.",
        },
    };
}

function resource(
    module: "local" | "remote",
    description: string,
    extraInputs: Record<string, Spec>,
    required: string[],
): Spec {
    const inputs = { ...commonInputs(module), ...extraInputs };
    return {
        description,
        inputProperties: inputs,
        requiredInputs: required,
        properties: {
            ...inputs,
            stdout: str("The standard output of the command's process"),
            stderr: str("The standard error of the command's process"),
        },
        required: [...required, "stdout", "stderr"],
    };
}

export function packageSchema(): Spec {
    return {
        name: "command",
        displayName: "Command",
        version: PROVIDER_VERSION,
        description:
            "kvmesh's implementation of the command provider (command:remote:Command and command:local:Command only).",
        license: "Apache-2.0",
        repository: "https://github.com/pulumi/pulumi-command",
        publisher: "Pulumi",
        meta: { moduleFormat: "(.*)" },
        config: {},
        provider: { type: "object" },
        types: {
            "command:remote:Connection": connectionType(false),
            "command:remote:ProxyConnection": connectionType(true),
            "command:remote:Logging": loggingEnum(),
            "command:local:Logging": loggingEnum(),
        },
        resources: {
            "command:remote:Command": resource(
                "remote",
                "A command to run on a remote host. The connection is established via ssh.",
                {
                    connection: {
                        $ref: "#/types/command:remote:Connection",
                        secret: true,
                        description: "The parameters with which to connect to the remote host.",
                    },
                },
                ["connection"],
            ),
            "command:local:Command": resource(
                "local",
                "A local command to be executed.",
                {
                    dir: str("The directory from which to run the command from."),
                    interpreter: {
                        type: "array",
                        items: { type: "string" },
                        description: 'The program and arguments to run the command. Defaults to ["/bin/sh", "-c"].',
                    },
                },
                [],
            ),
        },
    };
}
