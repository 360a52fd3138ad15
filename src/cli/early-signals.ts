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
 * Like node-support.ts, loaded before anything else: no imports.
 */

const CAUGHT = ['SIGHUP', 'SIGINT', 'SIGTERM'] as const;

/** Catches SIGHUP, SIGINT and SIGTERM for the rest of the process (see the top of this file). */
export function catchSignalsEarly(
  write: (line: string) => void = (line) => void process.stderr.write(`${line}\n`),
): void {
  for (const signal of CAUGHT) {
    process.on(signal, () => {
      // Another listener is serve's own: it answers.
      if (process.listenerCount(signal) > 1) return;
      if (signal === 'SIGHUP') {
        write('jobmeter: SIGHUP: received before the configuration was loaded: nothing to reload');
        return;
      }
      write(
        `jobmeter: ${signal} received before the ingest state was loaded: nothing to save, exiting`,
      );
      process.exit(0);
    });
  }
}
