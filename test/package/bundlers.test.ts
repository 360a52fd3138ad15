/**
 * A host app bundled with esbuild (a devDependency, the real bundler) against the packed tarball,
 * by docs/host-apps.md's own command ("Bundlers"; `npx esbuild` is the checkout's): ESM output with
 * a `require` banner for the CommonJS the bundle carries, and the ingest's decode worker as an
 * entry point of its own. The bundle is copied to a folder with no node_modules above it and run on
 * the oldest supported Node and on Node 24:
 * its pull endpoint serves what it recorded, its OTLP push reaches a receiver, its ingest decodes a
 * body too large for the main thread in the worker, and a node:cluster primary serves the sum of its
 * forked workers. A bundle without the worker is refused by `createJobmeter` at once, naming it.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MIN_NODE_VERSION } from '../../src/common/node-support.ts';
import { nodeRuntime } from '../support/node-runtimes.ts';
import { packTarball } from './pack.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE24 = join(ROOT, 'node_modules/node/bin/node');
const STEP_MS = 20_000;

/** The host: one process with pull, push and ingest, or (HOST_MODE=cluster) a primary and two workers. */
const APP = `import cluster from 'node:cluster';
import { createJobmeter } from 'jobmeter';

if (process.env.HOST_MODE === 'cluster') {
  const jm = await createJobmeter({ global: false, listener: { host: '127.0.0.1', port: 0 } });
  if (cluster.isPrimary) {
    let recorded = 0;
    for (let i = 0; i < 2; i++)
      cluster.fork().on('message', (m) => {
        if (m === 'recorded' && ++recorded === 2) console.log(JSON.stringify({ pull: jm.pullAddress.port }));
      });
    process.on('SIGTERM', async () => {
      for (const w of Object.values(cluster.workers)) w.kill();
      await jm.shutdown();
      process.exit(0);
    });
  } else {
    jm.recordRun({ task: 'bundled', runner: 'worker', outcome: 'success', durationSeconds: 0.5 });
    process.send('recorded');
  }
} else {
  const jm = await createJobmeter({
    global: false,
    listener: { host: '127.0.0.1', port: 0 },
    ingest: { host: '127.0.0.1', port: 0 },
    otlp: { endpoint: process.env.OTLP_ENDPOINT, intervalMillis: 200 },
  });
  jm.meter.createCounter('host.bundled.requests').add(3);
  console.log(JSON.stringify({ pull: jm.pullAddress.port, ingest: jm.ingestAddress.port }));
  process.on('SIGTERM', async () => {
    await jm.shutdown();
    process.exit(0);
  });
}
`;

const ESBUILD = join(ROOT, 'node_modules/.bin/esbuild');

/** docs/host-apps.md's esbuild command, with the checkout's esbuild. */
function docsCommand(): string {
  const doc = readFileSync(join(ROOT, 'docs/host-apps.md'), 'utf8');
  const section = /\n## Bundlers\n([^]*?)\n## /.exec(doc)?.[1] ?? '';
  const command = /```sh\n(npx esbuild [^]*?)```/.exec(section)?.[1];
  assert.ok(
    command !== undefined,
    `docs/host-apps.md, "Bundlers", has an npx esbuild block:\n${section}`,
  );
  return command.replace(/^npx esbuild /, `'${ESBUILD}' `);
}

let dir: string;
/** The bundle's folder, nothing else in it or above it. */
let bare: string;

before(async () => {
  assert.ok(
    existsSync(ESBUILD),
    `${ESBUILD} is missing: run \`npm ci\` (esbuild is a devDependency)`,
  );
  const packed = await packTarball('jobmeter-bundlers-');
  dir = packed.dir;
  const app = join(dir, 'app');
  await mkdir(app);
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({ name: 'bundled-host', private: true, type: 'module' }),
  );
  await writeFile(join(app, 'main.js'), APP);
  await run(
    'npm',
    [
      'install',
      packed.tarball,
      '@opentelemetry/api@1.10',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
    ],
    { cwd: app, maxBuffer: 16 << 20 },
  );
  const built = await run('bash', ['-c', docsCommand()], { cwd: app, maxBuffer: 16 << 20 });
  assert.equal(built.stderr, '', 'esbuild warns of nothing');
  bare = join(dir, 'bundle');
  await mkdir(bare);
  for (const f of ['main.mjs', 'decode-worker.mjs'])
    await copyFile(join(app, 'out', f), join(bare, f));
  for (let at = bare; at !== dirname(at); at = dirname(at))
    assert.ok(
      !existsSync(join(at, 'node_modules')),
      `${at}/node_modules: the bundle must run alone`,
    );
});

after(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** An OTLP/HTTP receiver: the bodies posted to it. */
async function receiver(): Promise<{ server: Server; url: string; bodies: Buffer[] }> {
  const bodies: Buffer[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks));
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/v1/metrics`, bodies };
}

/** Runs the bundle `file` (in `bare`) on `node` until it prints its ports; `stop` ends it with SIGTERM. */
async function start(
  node: string,
  file: string,
  env: Record<string, string>,
): Promise<{ ports: { pull: number; ingest?: number }; stop: () => Promise<void> }> {
  const child = spawn(node, [join(bare, file)], {
    cwd: bare,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = once(child, 'close');
  const ports = await new Promise<{ pull: number; ingest?: number }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ports within ${STEP_MS} ms:\n${stderr}`)),
      STEP_MS,
    );
    child.stdout.on('data', () => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { pull: number; ingest?: number });
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the bundle exited (${child.exitCode}):\n${stdout}${stderr}`));
    });
  });
  return {
    ports,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      assert.equal(child.exitCode, 0, stderr);
    },
  };
}

/** Waits until `check` holds, up to STEP_MS. */
async function until(check: () => boolean | Promise<boolean>, what: () => string): Promise<void> {
  const end = Date.now() + STEP_MS;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(what());
    await new Promise((r) => setTimeout(r, 100));
  }
}

const scrape = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

/** An OTLP/JSON body of 800 gauges, over 256 KiB: decoded by the ingest's worker. */
function largeBody(): string {
  const timeUnixNano = String(Date.now() * 1e6);
  const metrics = Array.from({ length: 800 }, (_, i) => ({
    name: `bundled.bulk${i}`,
    gauge: {
      dataPoints: [
        {
          asDouble: i,
          timeUnixNano,
          attributes: [{ key: 'pad', value: { stringValue: 'x'.repeat(300) } }],
        },
      ],
    },
  }));
  const body = JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics }] }] });
  assert.ok(body.length > 256 * 1024, `${body.length} bytes`);
  return body;
}

for (const [major, node] of [
  [`Node ${MIN_NODE_VERSION} (the oldest supported)`, () => nodeRuntime('NODE_OLDEST_SUPPORTED')],
  ['Node 24', () => NODE24],
] as const)
  describe(`an esbuild bundle, alone in its folder, on ${major}`, () => {
    it('serves what it recorded, pushes it over OTLP, and ingests a large body through its decode worker', async () => {
      const otlp = await receiver();
      const host = await start(node(), 'main.mjs', { OTLP_ENDPOINT: otlp.url });
      try {
        assert.match(await scrape(host.ports.pull), /^host_bundled_requests_total\{[^}]*\} 3$/m);
        await until(
          () => otlp.bodies.some((b) => b.includes('host.bundled.requests')),
          () => `no push carried host.bundled.requests (${otlp.bodies.length} bodies)`,
        );
        const sent = await fetch(`http://127.0.0.1:${host.ports.ingest}/v1/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: largeBody(),
        });
        const answer = await sent.text();
        assert.equal(sent.status, 200, answer);
        assert.doesNotMatch(answer, /rejected/);
        const text = await scrape(host.ports.pull);
        assert.match(text, /^bundled_bulk799\{pad="x+[^}]*\} 799$/m);
      } finally {
        await host.stop();
        otlp.server.close();
      }
    });

    it('as a node:cluster primary, serves the sum of what its forked workers recorded', async () => {
      const host = await start(node(), 'main.mjs', { HOST_MODE: 'cluster' });
      try {
        await until(
          async () =>
            /^jobmeter_run_finished_total\{task="bundled",[^}]*runner="worker"[^}]*\} 2$/m.test(
              await scrape(host.ports.pull),
            ),
          () => 'the primary did not serve both workers’ runs',
        );
      } finally {
        await host.stop();
      }
    });
  });

describe('an esbuild bundle without the decode worker', () => {
  it('is refused by createJobmeter with an ingest, at once, naming the worker to bundle', async () => {
    const alone = join(dir, 'without-worker');
    await mkdir(alone);
    await copyFile(join(bare, 'main.mjs'), join(alone, 'main.mjs'));
    const child = spawn(NODE24, [join(alone, 'main.mjs')], {
      cwd: alone,
      env: { PATH: process.env['PATH'] ?? '', OTLP_ENDPOINT: 'http://127.0.0.1:9/v1/metrics' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const [code] = (await once(child, 'close')) as [number];
    assert.notEqual(code, 0);
    assert.match(
      stderr,
      /decode-worker\.mjs, which is missing: bundle jobmeter\/dist\/src\/decode-worker\.js/,
    );
  });
});
