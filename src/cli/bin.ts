#!/usr/bin/env node
/**
 * The `jobmeter` bin (package.json `bin`, and `npm start`). It always runs the command line: an
 * `import.meta.main` guard does not, on the Node versions that lack it. A Node below the supported
 * floor gets one line naming the version needed and exit 3 (EXIT_UNSUPPORTED_NODE), before anything that needs a newer
 * Node is loaded (hence the dynamic import). `serve` is re-run first with its Node flags (node-flags.ts),
 * then catches its signals before loading the rest (early-signals.ts).
 */
import { catchSignalsEarly } from './early-signals.ts';
import { serveReexecArgv } from './node-flags.ts';
import { EXIT_UNSUPPORTED_NODE, unsupportedNode } from '../common/node-support.ts';

const unsupported = unsupportedNode(process.versions.node);
if (unsupported !== undefined) {
  process.stderr.write(`jobmeter: ${unsupported}\n`);
  process.exit(EXIT_UNSUPPORTED_NODE);
}

// serve re-runs itself, as the same process, with the Node flags it needs (node-flags.ts), and
// glibc's mmap threshold held at its default (128 KiB) instead of rising to the largest block
// freed: risen, every later 10–20 MiB body, inflated body or string comes from a thread's arena,
// which keeps the pages of freed blocks below its top (and stopping the thread does not give them
// back), so RSS stays 100+ MiB up after a storm; held, such blocks are mapped and unmapped
// whole, at the price of faulting their pages in afresh each time (docs/collector.md, "malloc's
// mmap threshold"). The operator's MALLOC_MMAP_THRESHOLD_ wins.
const reexec = serveReexecArgv(process, process.env, typeof process.execve === 'function');
if (reexec !== undefined)
  process.execve!(process.execPath, reexec, { MALLOC_MMAP_THRESHOLD_: '131072', ...process.env });

// After the re-exec, not before: the re-exec runs before any listener could, so a signal caught
// before it would be lost rather than answered.
if (process.argv[2] === 'serve') catchSignalsEarly();

const { runCli, EXIT_FAILURE } = await import('./main.ts');
runCli(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`jobmeter: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(EXIT_FAILURE);
  },
);
