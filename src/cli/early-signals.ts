/**
 * `jobmeter serve`'s first act once Node runs its code (bin.ts, before the modules that take a
 * second to load): catch SIGHUP, SIGINT and SIGTERM, whose default is to end the process at once
 * (exit 129, 130, 143), nothing saved and nothing said.
 *
 * Until serve listens for a signal itself, these listeners answer it: a SIGHUP is a no-op with a
 * line (no configuration is loaded yet; the read to come sees the file as it is now), a SIGINT or
 * SIGTERM exits 0 with a line (no ingest state is loaded yet: nothing to save). serve takes a
 * signal over by adding its own listener (reload.ts from before the configuration is read,
 * shutdown.ts from before the ingest state is loaded); from then on these stay silent, and they
 * stay registered so that no moment is left to Node's default.
 *
 * Their lines take `--log-format` as every later line of serve does, read from the command line
 * here since nothing has parsed it yet.
 *
 * Loaded before anything else: besides Node's own `node:util`, its one import, io.ts, loads
 * nothing further.
 */
import { parseArgs } from 'node:util';

import type { LogFormat } from '../config/serve-flags.ts';
import { formattedIo, PROCESS_IO } from './io.ts';

// SIGHUP last: Node catches SIGINT and SIGTERM itself from its start (to restore the terminal, then
// dies of them), so a caught SIGHUP is what tells from outside (/proc's SigCgt) that all three are
// this file's: test/cli/serve-early-signals.test.ts sends its signals from that moment.
const CAUGHT = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * `--log-format`'s value in `args` (`--log-format json` or `--log-format=json`, the last one
 * given, as serve's own parse takes it), or `text` when there is none or it names no format
 * (serve's parse then says why and exits 2). Read before any parse, so every line serve and
 * validate write takes it, a usage error's included (main.ts).
 */
export function earlyLogFormat(args: readonly string[]): LogFormat {
  const options = { 'log-format': { type: 'string' } } as const;
  const format = parseArgs({ args: [...args], options, strict: false }).values['log-format'];
  return format === 'json' || format === 'logfmt' ? format : 'text';
}

/** Catches SIGHUP, SIGINT and SIGTERM for the rest of the process (see the top of this file). */
export function catchSignalsEarly(): void {
  // Its lines go to stderr in the format `--log-format` asks for (`jobmeter serve …`: its flags from argv[3] on).
  const io = formattedIo(PROCESS_IO, earlyLogFormat(process.argv.slice(3)));
  for (const signal of CAUGHT) {
    process.on(signal, () => {
      // Another listener is serve's own: it answers.
      if (process.listenerCount(signal) > 1) return;
      if (signal === 'SIGHUP') {
        io.log(
          'info',
          'signal received before the configuration was loaded: nothing to reload',
          { signal },
          'SIGHUP: received before the configuration was loaded: nothing to reload',
        );
        return;
      }
      io.log(
        'info',
        'signal received before the ingest state was loaded: nothing to save, exiting',
        { signal },
        `${signal} received before the ingest state was loaded: nothing to save, exiting`,
      );
      process.exit(0);
    });
  }
}
