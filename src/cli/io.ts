/** Where the CLI writes and how it exits: shared by the command (main.ts) and its shutdown (shutdown.ts). */

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
