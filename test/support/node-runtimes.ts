/**
 * The Node runtimes the installed-package test runs on besides the project's Node 24: the `node`
 * npm package at the versions pinned in test/peers/versions.env, installed by
 * scripts/ensure-node-runtimes.sh (run by `npm test`'s pretest). The script is the one place that
 * knows the cache layout; this asks it. A runtime that is not there throws, naming the command.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/ensure-node-runtimes.sh', import.meta.url));
const COMMAND = 'bash scripts/ensure-node-runtimes.sh   (npm test runs it first)';

export type RuntimeKey = 'NODE_OLDEST_SUPPORTED' | 'NODE_BELOW_SUPPORTED';

/** The path of the pinned runtime `key`; throws naming the install command when it is missing. */
export function nodeRuntime(key: RuntimeKey): string {
  const out = execFileSync('bash', [SCRIPT, '--where'], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.startsWith(`${key}=`));
  if (line === undefined)
    throw new Error(`ensure-node-runtimes.sh --where printed no ${key}:\n${out}`);
  const path = line.slice(key.length + 1);
  try {
    accessSync(path, fsConstants.X_OK);
  } catch {
    throw new Error(`${key} is not installed (${path} missing): run ${COMMAND}`);
  }
  return path;
}
