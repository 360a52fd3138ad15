/**
 * Which Node.js versions jobmeter runs on. The floor is the OpenTelemetry 3.x packages' own
 * (`engines: >=22.15.0`); package.json's `engines` says the same, and a test keeps the two equal.
 *
 * This module is the first thing the bin loads, before anything that may need a newer Node, so it
 * must stay plain: no imports, syntax every Node that can load an ES module understands.
 */
export const MIN_NODE_VERSION = '22.15.0';

/**
 * The bin's exit status on a Node below the floor: distinct from a startup failure (1) and a
 * configuration error (2), so a service manager can tell that retrying cannot help
 * (examples/systemd/jobmeter.service: RestartPreventExitStatus).
 */
export const EXIT_UNSUPPORTED_NODE = 3;

/** package.json's `engines.node`. */
export const NODE_ENGINES = `>=${MIN_NODE_VERSION}`;

/**
 * The one line to print when `version` (as `process.versions.node`: `22.14.0`) is below the floor,
 * or undefined when it is supported.
 */
export function unsupportedNode(version: string): string | undefined {
  const have = version.split('.').map(Number);
  const need = MIN_NODE_VERSION.split('.').map(Number);
  for (let i = 0; i < need.length; i++) {
    const h = have[i] ?? 0;
    const n = need[i] ?? 0;
    if (h > n) return undefined;
    if (h < n) return `Node.js ${NODE_ENGINES} is required; this is Node.js ${version}`;
  }
  return undefined;
}

/**
 * Throws, in the one line the bin prints, on a Node below the floor: called by every entry of the
 * package as it is imported, after its modules have loaded. What must stay true: every module of
 * the package links and evaluates on such a Node (a named import it lacks would throw a
 * SyntaxError of its own first: http/body-store.ts imports node:zlib as a namespace);
 * test/package/installed.test.ts imports every entry on one.
 */
export function refuseUnsupportedNode(): void {
  const refused = unsupportedNode(process.versions.node);
  if (refused === undefined) return;
  const err = new Error(`jobmeter: ${refused}`);
  // The one line, not a stack into the package's chunks.
  err.stack = err.message;
  throw err;
}
