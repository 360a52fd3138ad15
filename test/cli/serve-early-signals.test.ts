/**
 * A signal at any moment of `jobmeter serve`'s startup is handled, never Node's default (exit 129
 * or 143, nothing saved, nothing said). With a real serve process, SIGHUP, SIGTERM and SIGINT are
 * sent at points measured from the moment the process first catches SIGHUP (read from
 * /proc/PID/status: Node itself never catches it, and serve catches it after SIGINT and SIGTERM) through
 * startup, and once ready. At that first moment the configuration is not loaded yet: the handlers
 * come before the modules that take a second to load. (Before Node runs serve's first line, no
 * code can catch a signal: Node's own start, twice with the re-exec of node-flags.ts.)
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';

import { ingestStateFileName } from '../../src/ingest/state-file.ts';
import { freePort } from '../support/free-port.ts';
import { tempFiles } from '../support/temp-files.ts';
import { EXIT_MS, killChildren, start, START_MS, type Running } from './harness.ts';
import { logRecords } from '../support/log-records.ts';

const files = tempFiles('jobmeter-early-signals-');
afterEach(killChildren);

const READY = /receiving OTLP\/HTTP metrics on http:\/\//;
const OFFSETS_MS = [0, 50, 150, 300, 600] as const;
const NOTHING_TO_RELOAD =
  'jobmeter: SIGHUP: received before the configuration was loaded: nothing to reload';
const REREAD = 'jobmeter: SIGHUP: configuration re-read: unchanged';
const nothingToSave = (signal: string): string =>
  `jobmeter: ${signal} received before the ingest state was loaded: nothing to save, exiting`;
const STATE_LOADED = /^jobmeter: ingest state: /m;

let runs = 0;
/** serve with the ingest on (its state kept in a folder of its own) and its state file's path. */
async function serve(
  flags: readonly string[] = [],
): Promise<{ child: Running; stateFile: string }> {
  const stateDir = join(files.dir, `state-${++runs}`);
  await mkdir(stateDir);
  const port = await freePort();
  const config = await files.file(
    `jobmeter-${runs}.toml`,
    [
      'process_metrics = false',
      '[listener]',
      'port = 0',
      '[ingest]',
      'enabled = true',
      `port = ${port}`,
      `state_dir = "${stateDir}"`,
      '',
    ].join('\n'),
  );
  return {
    child: start(['serve', '--config', config, ...flags]),
    stateFile: join(stateDir, ingestStateFileName('127.0.0.1', port)),
  };
}

const SIGHUP_BIT = 1n << 0n;

/**
 * Resolves once the process catches the signals early-signals.ts takes: SIGHUP in SigCgt of
 * /proc/PID/status. Node catches SIGINT and SIGTERM itself from its start (and dies of them), so
 * their bits say nothing; early-signals.ts catches SIGHUP after them, so its bit says all three are
 * serve's.
 */
async function firstCaught(child: Running): Promise<void> {
  const deadline = Date.now() + START_MS;
  for (;;) {
    const status = readFileSync(`/proc/${child.child.pid}/status`, 'utf8');
    const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    assert.ok(caught !== undefined, status);
    if ((BigInt(`0x${caught}`) & SIGHUP_BIT) !== 0n) return;
    assert.ok(
      Date.now() < deadline,
      `SIGHUP not caught within ${START_MS} ms; stderr:\n${child.stderr()}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Milliseconds after the first signal is caught, or a startup line seen. */
type Point = number | 'configured' | 'state loaded' | 'ready';
const MILESTONES = {
  configured: /^jobmeter: version /m,
  'state loaded': STATE_LOADED,
  ready: READY,
} as const;

/** Resolves at `point`, counted from `t0` (when the first signal was caught). */
async function at(child: Running, point: Point, t0: number): Promise<void> {
  if (typeof point === 'number')
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, t0 + point - Date.now())));
  else await child.stderrMatches(MILESTONES[point], START_MS);
}

const named = (point: Point): string =>
  typeof point === 'number' ? `${point} ms after the first signal is caught` : `once ${point}`;

test(
  'SIGHUP at every point of startup and once ready leaves serve running, each answered by a line',
  { timeout: 120_000 },
  async (t) => {
    const { child } = await serve();
    await firstCaught(child);
    const t0 = Date.now();
    const hangupLines = (): string[] =>
      child
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('jobmeter: SIGHUP: '));
    const points: Point[] = [...OFFSETS_MS, 'configured', 'ready'];
    for (const [i, point] of points.entries()) {
      await at(child, point, t0);
      child.child.kill('SIGHUP');
      // One line for each, before the next is sent.
      await child.stderrMatches(
        new RegExp(`(?:^jobmeter: SIGHUP: .*\\n[^]*?){${i + 1}}`, 'm'),
        START_MS,
      );
      const line = hangupLines()[i];
      // Before the configuration is loaded: a no-op when answered before serve's reloader listens, else
      // a re-read once the first read is done (it may have seen the file before the change announced).
      if (point === 'ready') assert.equal(line, REREAD);
      else assert.ok(line === NOTHING_TO_RELOAD || line === REREAD, `at ${point} ms: ${line}`);
      t.diagnostic(`SIGHUP ${named(point)}: ${line}`);
    }
    // A no-op only before the configuration is read: never after it.
    const stderr = child.stderr();
    assert.ok(
      !stderr.slice(stderr.indexOf('jobmeter: version')).includes(NOTHING_TO_RELOAD),
      stderr,
    );
    assert.equal(child.child.exitCode, null, 'still running');
    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
  },
);

const STOPS: [NodeJS.Signals, Point][] = [
  ...OFFSETS_MS.map((ms): [NodeJS.Signals, Point] => ['SIGTERM', ms]),
  ['SIGINT', 150],
  ['SIGTERM', 'configured'],
  ['SIGTERM', 'state loaded'],
  ['SIGTERM', 'ready'],
];
for (const [signal, point] of STOPS) {
  test(
    `${signal} ${named(point)} exits 0, saving the ingest state once it is loaded`,
    { timeout: 60_000 },
    async (t) => {
      const { child, stateFile } = await serve();
      await firstCaught(child);
      await at(child, point, Date.now());
      child.child.kill(signal);
      assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
      const stderr = child.stderr();
      t.diagnostic(
        `${signal} ${named(point)}: ${stderr.split('\n').find((l) => l.startsWith(`jobmeter: ${signal}`))}`,
      );
      if (point === 0)
        assert.doesNotMatch(
          stderr,
          /^jobmeter: version/m,
          'caught before the configuration is loaded',
        );
      if (point === 0 || !STATE_LOADED.test(stderr)) {
        // Nothing loaded, nothing to save: one line, no state file.
        assert.ok(stderr.includes(`${nothingToSave(signal)}\n`), stderr);
        assert.doesNotMatch(stderr, STATE_LOADED);
        assert.equal(existsSync(stateFile), false);
      } else {
        // The state was loaded: the shutdown saves it.
        assert.match(stderr, new RegExp(`^jobmeter: ${signal} received, shutting down$`, 'm'));
        assert.ok(existsSync(stateFile), `the final checkpoint ${stateFile}; stderr:\n${stderr}`);
      }
    },
  );
}

test(
  'the line of a SIGTERM caught before the modules load takes --log-format, in both spellings',
  { timeout: 60_000 },
  async () => {
    for (const format of ['json', 'logfmt'] as const) {
      const flags = format === 'json' ? ['--log-format=json'] : ['--log-format', format];
      const { child } = await serve(flags);
      await firstCaught(child);
      child.child.kill('SIGTERM');
      assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
      const entries = logRecords(format, child.stderr().trimEnd().split('\n'));
      assert.deepEqual(
        entries.map((e) => [e.level, e.msg, e.signal]),
        [
          [
            'info',
            'signal received before the ingest state was loaded: nothing to save, exiting',
            'SIGTERM',
          ],
        ],
        `${flags.join(' ')}: ${child.stderr()}`,
      );
      assert.match(String(entries[0]?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
  },
);
