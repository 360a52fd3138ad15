/**
 * `jobmeter serve`'s first startup line names its version (package.json's), its commit and the Node.js it
 * runs on, before anything else is printed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, it } from 'node:test';

import { killChildren, start, START_MS } from './harness.ts';

afterEach(killChildren);

/** The harness runs the repository's Node (node_modules/.bin/node). */
const CHILD_NODE = execFileSync(
  fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url)),
  ['--version'],
  { encoding: 'utf8' },
).trim();
const COMMIT = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

it("serve's first stderr line is its version and Node's", async () => {
  const child = start(['serve', '--listen', '127.0.0.1:0', '--profile', 'otel']);
  await child.stderrMatches(/^jobmeter: serving otel metrics on /m, START_MS);
  const first = child.stderr().split('\n')[0];
  assert.equal(
    first,
    `jobmeter: version ${PACKAGE_VERSION} (commit ${COMMIT}, Node.js ${CHILD_NODE})`,
  );
  child.child.kill('SIGTERM');
  assert.equal(await child.exited(START_MS), 0);
});
