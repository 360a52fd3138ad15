/** Where the CLI writes and how it exits: shared by the command (main.ts), its early signal listeners (early-signals.ts) and its shutdown (shutdown.ts). */
import type { LogFormat } from '../config/serve-flags.ts';
import { lineLogger, logTo, type Log, type LogSink } from '../common/log.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** How long shutdown (last OTLP export, closing the listener) may take before exiting 1. */
export const SHUTDOWN_GRACE_MS = 10_000;

/** Where the CLI writes; each call is one line, without its trailing newline. */
export interface CliIo {
  stdout(line: string): void;
  stderr(line: string): void;
}

/** The process' own stdout and stderr. */
export const PROCESS_IO: CliIo = {
  stdout: (line) => void process.stdout.write(`${line}\n`),
  stderr: (line) => void process.stderr.write(`${line}\n`),
};

/** `io` with the log call every line serve and validate write goes through, in the asked format. */
export interface LogIo extends CliIo {
  readonly format: LogFormat;
  /** The one log call (common/log.ts): what the line says, at its level, with its details. */
  readonly log: Log;
  /** The same writer as the library's `log` option and the access log's `stream` take it. */
  readonly sink: LogSink;
  /** `--debug`'s data point lines: as they are in text, a debug record (without their prefix) otherwise. */
  readonly debug: (line: string) => void;
}

/**
 * `io` whose log lines take `format`, as Prometheus' `--log.format` and the Collector's
 * `encoding` write them: `text` is the `jobmeter: …` sentence; `json` one object a line and
 * `logfmt` one `key=value` line, each with `level`, `time`, `msg` and the record's fields
 * (common/log.ts formats them, so the quoting is applied in one place).
 */
export function formattedIo(io: CliIo, format: LogFormat): LogIo {
  const stderr = (line: string): void => io.stderr(line);
  const sink: LogSink =
    format === 'text' ? (line) => io.stderr(`jobmeter: ${line}`) : lineLogger(format, stderr);
  const log = logTo(sink);
  return {
    stdout: (line) => io.stdout(line),
    stderr,
    format,
    log,
    sink,
    debug:
      format === 'text' ? stderr : (line) => log('debug', line.replace(/^jobmeter: debug: /, '')),
  };
}
