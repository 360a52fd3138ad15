/** Where the CLI writes and how it exits: shared by the command (main.ts) and its shutdown (shutdown.ts). */
import type { LogFormat } from '../config/serve-flags.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** How long shutdown (last OTLP export, closing the listener) may take before exiting 1. */
export const SHUTDOWN_GRACE_MS = 10_000;

/** Where the CLI writes; each call is one line, without its trailing newline. */
export interface CliIo {
  stdout(line: string): void;
  /** `level`: `error` for a failure; otherwise the line's own (formattedIo). */
  stderr(line: string, level?: LogLevel): void;
}

/** A stderr line's level: `error` when its writer says so, else `warn` for a `warning:` line and `info` for the rest. */
export type LogLevel = 'info' | 'warn' | 'error';

/**
 * `io` whose stderr lines carry a time and a level, as Prometheus' `--log.format` writes them:
 * `time=… level=… msg="…"` (logfmt) or `{"time":"…","level":"…","msg":"…"}` (json), one line
 * each. Every line serve writes goes through here, so the wrapping is the only place a format
 * is applied; the message is the text line without its `jobmeter: ` prefix, so what a line says
 * (and never says: secrets) is the same in every format.
 */
export function formattedIo(io: CliIo, format: LogFormat): CliIo {
  if (format === 'text') return io;
  return {
    stdout: (line) => io.stdout(line),
    stderr: (line, level) => {
      const msg = line.replace(/^jobmeter: /, '');
      const entry = {
        time: new Date().toISOString(),
        level: level ?? (msg.startsWith('warning:') ? 'warn' : 'info'),
        msg,
      };
      // logfmt's msg is always quoted, escaped as a JSON string is (`\"`, `\\`, `\n`): one line each.
      io.stderr(
        format === 'json'
          ? JSON.stringify(entry)
          : `time=${entry.time} level=${entry.level} msg=${JSON.stringify(msg)}`,
      );
    },
  };
}
