// The parts of ssh2 (npm, pure JavaScript, no bundled types) that ssh.ts uses. Written here
// instead of depending on @types/ssh2, which pulls in a second @types/node.
declare module "ssh2" {
    import { Duplex, Readable } from "stream";
    import { EventEmitter } from "events";

    export interface ParsedKey {
        type: string;
        comment: string;
        getPublicSSH(): Buffer;
    }

    export type KeyboardInteractiveCallback = (answers: string[]) => void;
    export type Prompt = { prompt: string; echo?: boolean };

    export type AuthMethod =
        | { type: "none"; username: string }
        | { type: "password"; username: string; password: string }
        | { type: "publickey"; username: string; key: ParsedKey | string | Buffer; passphrase?: string }
        | { type: "agent"; username: string; agent: string }
        | {
              type: "keyboard-interactive";
              username: string;
              prompt: (
                  name: string,
                  instructions: string,
                  lang: string,
                  prompts: Prompt[],
                  finish: KeyboardInteractiveCallback,
              ) => void;
          };

    export interface ConnectConfig {
        host?: string;
        port?: number;
        username?: string;
        sock?: Readable;
        readyTimeout?: number;
        keepaliveInterval?: number;
        hostVerifier?: (key: Buffer) => boolean;
        algorithms?: { serverHostKey?: string[] };
        authHandler?: (
            methodsLeft: string[] | null,
            partialSuccess: boolean | null,
            callback: (next: AuthMethod | false) => void,
        ) => void;
        debug?: (message: string) => void;
    }

    export interface ClientChannel extends Duplex {
        stderr: Readable;
        close(): void;
    }

    export interface ExecOptions {
        env?: Record<string, string>;
    }

    export class Client extends EventEmitter {
        connect(config: ConnectConfig): this;
        exec(
            command: string,
            options: ExecOptions,
            callback: (err: Error | undefined, channel: ClientChannel) => void,
        ): this;
        forwardOut(
            srcIP: string,
            srcPort: number,
            dstIP: string,
            dstPort: number,
            callback: (err: Error | undefined, channel: ClientChannel) => void,
        ): this;
        end(): this;
        destroy(): this;
    }

    export const utils: {
        parseKey(data: string | Buffer, passphrase?: string): ParsedKey | ParsedKey[] | Error;
    };
}
