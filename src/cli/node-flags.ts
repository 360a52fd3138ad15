/**
 * The Node flags `jobmeter serve` runs with, and the re-exec that gives them to it.
 *
 * V8 sizes the main thread's young generation to its own ceiling under load (tens of MiB of
 * semi-spaces, kept once grown), where what an ingested request or a scrape allocates is dead
 * within the turn: resident memory for nothing. serve caps it. And V8 lets the old generation
 * grow up to several times what survived its last full collection before it collects again (a
 * factor it picks from how fast it collects): under a fleet's small exports, decoded and ingested
 * on the main thread, that is tens of MiB of dead objects held resident. serve sets that factor
 * lower (`--heap-growing-percent`), trading more frequent full collections for it. Flags V8 reads
 * only when the process starts, so the bin re-runs itself with them (`process.execve`: the same
 * process, its pid, stdio and environment kept) before anything else is loaded.
 *
 * The operator's word wins: either flag already given (on node's command line or in
 * `NODE_OPTIONS`) leaves the heap's sizing to them, and a Node without `process.execve` (Windows)
 * runs with V8's defaults. Like node-support.ts, this module is loaded first by the bin: no imports.
 */

/**
 * The semi-space cap serve runs with, in MiB (the young generation is a few semi-spaces): V8's
 * least. What a request allocates on the main thread is dead by the next scavenge either way, and
 * a young generation this small stays in the CPU's caches: under one 11,000-series body from 10
 * gRPC senders the main thread spent 0.64–0.70 s a million points against 0.89–0.93 s at 4 MiB
 * (bench/collector.ts), the other fleets within their noise.
 */
export const SERVE_SEMI_SPACE_MB = 1;

/** How far past what survived the last full collection the old generation grows before the next, in percent. */
export const SERVE_HEAP_GROWING_PERCENT = 20;

/** The flags serve adds to node's command line. */
export const SERVE_NODE_FLAGS: readonly string[] = [
  `--max-semi-space-size=${SERVE_SEMI_SPACE_MB}`,
  `--heap-growing-percent=${SERVE_HEAP_GROWING_PERCENT}`,
];

/** The V8 flags (either spelling) that leave the heap's sizing to the operator. */
const SIZING = [
  '--max-semi-space-size',
  '--max_semi_space_size',
  '--heap-growing-percent',
  '--heap_growing_percent',
];

/**
 * The argv to re-run the bin with (`[execPath, ...flags, ...execArgv, ...script and args]`), or
 * undefined when serve already runs as it should: not `serve`, the flag already given, or no
 * `process.execve` on this platform (`canExec`).
 */
export function serveReexecArgv(
  process: {
    readonly execPath: string;
    readonly execArgv: readonly string[];
    readonly argv: readonly string[];
  },
  env: Readonly<Record<string, string | undefined>>,
  canExec: boolean,
): string[] | undefined {
  if (!canExec || process.argv[2] !== 'serve') return undefined;
  const given = (args: readonly string[]): boolean =>
    args.some((a) => SIZING.some((flag) => a.startsWith(flag)));
  if (given(process.execArgv) || given((env.NODE_OPTIONS ?? '').split(/\s+/))) return undefined;
  return [process.execPath, ...SERVE_NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)];
}
