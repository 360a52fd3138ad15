// jobmeter's warnings about a host's bad values reach the console once when the app has set no
// OTel diag logger (without one, `diag` drops every line), and go to the app's logger, not the
// console, when it has set one. Each host runs in its own process: the diag logger is global.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const JOBMETER = fileURLToPath(new URL('../../src/jobmeter.ts', import.meta.url));

/** Runs a host that records two NaN and two negative values; returns its stderr and stdout. */
function host(setup: string): { stderr: string; stdout: string } {
  const script = `
    import { diag } from '@opentelemetry/api';
    import { createJobmeter } from ${JSON.stringify(JOBMETER)};
    ${setup}
    const jm = await createJobmeter({
      profile: 'otel',
      global: false,
      instruments: [{ name: 'app.jobs', kind: 'counter', unit: '{job}', description: 'Jobs.', attributes: [] }],
    });
    const jobs = jm.counter('app.jobs');
    jobs.add(NaN);
    jobs.add(NaN);
    jobs.add(-1);
    jobs.add(-1);
    await jm.shutdown();
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  });
  assert.equal(run.status, 0, run.stderr);
  return run;
}

test('with no diag logger, each warning reaches stderr once, as a JobmeterWarning', () => {
  const { stderr } = host('');
  const lines = stderr.split('\n').filter((l) => l.includes('JobmeterWarning'));
  assert.equal(lines.length, 2, stderr);
  assert.match(lines[0]!, /app\.jobs: record of NaN dropped.*reason="nan"/);
  assert.match(lines[1]!, /app\.jobs: record of -1 dropped.*reason="negative"/);
});

test("with the app's diag logger set, the warnings go to it and not to the console", () => {
  const { stderr, stdout } = host(
    "diag.setLogger({ warn: (m) => console.log('diag: ' + m), error() {}, info() {}, debug() {}, verbose() {} });",
  );
  assert.doesNotMatch(stderr, /JobmeterWarning|dropped/);
  const lines = stdout.split('\n').filter((l) => l.startsWith('diag: jobmeter: app.jobs'));
  assert.equal(lines.length, 2, stdout);
});
