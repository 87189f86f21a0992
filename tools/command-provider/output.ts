/**
 * Capturing a command's stdout/stderr: the full text for the outputs, complete lines for the
 * engine log (only the streams `logging` allows), and a tail of the logged lines for error
 * messages. Pure (no I/O): the unit tests import this module directly.
 */
import { StringDecoder } from "string_decoder";
import { Logging, shouldLog } from "./resources";

export type Stream = "stdout" | "stderr";

/** Lines of output kept for an error message. */
export const TAIL_LINES = 40;

export class OutputCapture {
    private readonly chunks: Record<Stream, Buffer[]> = { stdout: [], stderr: [] };
    private readonly decoders: Record<Stream, StringDecoder> = {
        stdout: new StringDecoder("utf8"),
        stderr: new StringDecoder("utf8"),
    };
    private readonly partial: Record<Stream, string> = { stdout: "", stderr: "" };
    private readonly tail: string[] = [];
    private truncated = false;

    constructor(
        private readonly logging: Logging,
        /** Called for each complete line of a logged stream. */
        private readonly onLine: (line: string, stream: Stream) => void,
    ) {}

    push(stream: Stream, chunk: Buffer): void {
        this.chunks[stream].push(chunk);
        if (!shouldLog(this.logging, stream)) return;
        const text = this.partial[stream] + this.decoders[stream].write(chunk);
        const lines = text.split("\n");
        this.partial[stream] = lines.pop() ?? "";
        for (const line of lines) this.line(stream, line);
    }

    /** Flush unterminated last lines. */
    finish(): void {
        for (const stream of ["stdout", "stderr"] as const) {
            if (!shouldLog(this.logging, stream)) continue;
            const rest = this.partial[stream] + this.decoders[stream].end();
            this.partial[stream] = "";
            if (rest !== "") this.line(stream, rest);
        }
    }

    private line(stream: Stream, raw: string): void {
        const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
        this.tail.push(line);
        if (this.tail.length > TAIL_LINES) {
            this.tail.shift();
            this.truncated = true;
        }
        if (line !== "") this.onLine(line, stream);
    }

    /** stdout and stderr as outputs: one trailing newline trimmed (like the official provider). */
    result(): { stdout: string; stderr: string } {
        const text = (s: Stream) => Buffer.concat(this.chunks[s]).toString("utf8").replace(/\n$/, "");
        return { stdout: text("stdout"), stderr: text("stderr") };
    }

    /** The last logged lines, for an error message ("" when logging is "none"). */
    tailText(): string {
        if (this.tail.length === 0) return "";
        return (this.truncated ? `(last ${TAIL_LINES} lines)\n` : "") + this.tail.join("\n");
    }
}

/** First line of a command, at most 100 characters, quoted, for error messages. */
export function commandSnippet(command: string): string {
    const whole = command.trim();
    let s = whole.split("\n")[0].slice(0, 100);
    if (s !== whole) s += " …";
    return JSON.stringify(s);
}

/**
 * The error for a failed command. `status` is e.g. "Process exited with status 3". The output
 * tail only covers the streams `logging` allows; with logging "none" (and for secret commands)
 * neither output nor the command text appear.
 */
export function failureMessage(opts: {
    status: string;
    which: string;
    command: string;
    commandIsSecret: boolean;
    logging: Logging;
    tail: string;
}): string {
    if (opts.logging === "none") {
        return `${opts.status}: running the ${opts.which} command (output not shown: logging is "none")`;
    }
    const what = opts.commandIsSecret
        ? `the ${opts.which} command`
        : `the ${opts.which} command ${commandSnippet(opts.command)}`;
    return opts.tail === "" ? `${opts.status}: running ${what}` : `${opts.status}: running ${what}:\n${opts.tail}`;
}
