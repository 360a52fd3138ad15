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
