/**
 * `node --import jobmeter/instrumentation app.mjs` from the environment alone: the built package
 * (dist/, as an installed copy would run) serves the pull endpoint, pushes OTLP on SIGTERM with
 * the standard OTEL_* variables honoured, and exits 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';

const root = new URL('../../', import.meta.url);
let receiver: OtlpReceiver;

before(async () => {
  assert.ok(
    existsSync(new URL('dist/instrumentation/index.js', root)),
    'dist/ is missing: run `npm run build` (npm test builds it first)',
  );
  receiver = await startOtlpReceiver();
});
after(() => receiver.close());

test('preload serves pull, honours OTEL_* and flushes the last export on SIGTERM', async () => {
  const app = await startApp('test/fixtures/host-app.mjs', {
    OTEL_SERVICE_NAME: 'preload-test',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url.replace(/\/v1\/metrics$/, ''),
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=acme',
    // Long enough that the only export is the one shutdown forces.
    OTEL_METRIC_EXPORT_INTERVAL: '600000',
  });
  try {
    const body = await (await fetch(app.url)).text();
    assert.match(
      body,
      /^jobmeter_run_finished_total\{task="compile",kind="task",runner="subprocess",outcome="success",otel_scope_name="jobmeter",otel_scope_version="[^"]+"\} 2$/m,
    );
    assert.match(body, /^target_info\{.*service_name="preload-test".*\} 1$/m);
    assert.match(body, /deployment_environment="test"/);
    assert.equal(receiver.requests.length, 0, 'nothing pushed before shutdown');
  } finally {
    app.child.kill('SIGTERM');
  }
  const [code] = await app.exited;
  assert.equal(code, 0, `exit code; stderr:\n${app.stderr()}`);
  await receiver.waitForRequests(1, 5_000);
  const last = receiver.requests.at(-1)!;
  assert.equal(last.contentType, 'application/json');
  assert.equal(last.headers['x-tenant'], 'acme');
  assert.equal(last.resource['service.name'], 'preload-test');
  const finished = last.metrics.find((m) => m.name === 'jobmeter.run.finished')!;
  assert.equal(finished.temporality, 'cumulative');
  const success = finished.points.find(
    (p) => p.attributes.task === 'compile' && p.attributes.outcome === 'success',
  );
  assert.equal(success?.value, 2);
  assert.ok(!app.stderr().includes('acme'), 'header values are never logged');
});

test('preload registers the global MeterProvider: an app using only metrics.getMeter() is served on the pull endpoint', async () => {
  const app = await startApp('test/fixtures/global-api-app.mjs', {});
  try {
    const body = await (await fetch(app.url)).text();
    assert.match(
      body,
      /^app_jobs_processed_total\{queue="emails",otel_scope_name="global-app",otel_scope_version="0\.0\.1"\} 5$/m,
    );
    assert.ok(!app.stderr().includes('already registered'), app.stderr());
  } finally {
    app.child.kill('SIGTERM');
  }
  const [code] = await app.exited;
  assert.equal(code, 0, `exit code; stderr:\n${app.stderr()}`);
});

test('preload: a configuration problem exits 2 naming the variable the user set, as serve does', async () => {
  const cases: [Record<string, string>, string][] = [
    [
      { JOBMETER_PROFILE: 'bogus' },
      'jobmeter: invalid JOBMETER_PROFILE=bogus: expected one of otel, runwisp, wasmrun, crewshipd, rm, solti, semconv\n',
    ],
    [
      { JOBMETER_LISTEN: '0.0.0.0:0' },
      'jobmeter: invalid JOBMETER_LISTEN=0.0.0.0:0: expected a loopback address (127.0.0.0/8, ::1 or localhost), or listener.allow_non_loopback = true in the config file to expose it\n',
    ],
    [
      { JOBMETER_CONFIG: 'missing.toml' },
      'jobmeter: invalid JOBMETER_CONFIG=missing.toml: expected a readable file (it does not exist)\n',
    ],
  ];
  for (const [env, expected] of cases) {
    const child = spawn(
      process.execPath,
      ['--import', 'jobmeter/instrumentation', 'test/fixtures/host-app.mjs'],
      {
        cwd: root,
        env: { PATH: process.env.PATH, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const [code] = await once(child, 'close');
    assert.equal(code, 2, `${JSON.stringify(env)}: ${stderr}`);
    assert.equal(stderr, expected);
  }
});

test('preload: a startup failure that is not configuration (port taken) exits 1, as serve does', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = busy.address() as AddressInfo;
    const child = spawn(
      process.execPath,
      ['--import', 'jobmeter/instrumentation', 'test/fixtures/host-app.mjs'],
      {
        cwd: root,
        env: { PATH: process.env.PATH, JOBMETER_LISTEN: `127.0.0.1:${port}` },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const [code] = await once(child, 'close');
    assert.equal(code, 1, stderr);
    assert.match(stderr, /^jobmeter: .*EADDRINUSE/);
  } finally {
    busy.close();
  }
});

/**
 * `node --import jobmeter/instrumentation <app>` with the pull listener on a free port: resolves
 * once the preload has said where it serves and the app has printed its ready line.
 */
async function startApp(app: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'jobmeter/instrumentation', app], {
    cwd: root,
    env: { PATH: process.env.PATH, JOBMETER_LISTEN: '127.0.0.1:0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = once(child, 'exit');
  const ready = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no listening line within 15 s; stderr:\n${stderr}`)),
      15_000,
    );
    child.stderr.on('data', () => {
      const m = /serving otel metrics on (http:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited early (${code}); stderr:\n${stderr}`)));
  });
  // the app has recorded by the time it prints ready
  await ready;
  return { child, exited, url, stderr: () => stderr };
}
