/**
 * What a host loads is what it uses: a process that imports the package root (the built dist/,
 * through the package's own name, as a host does), serves a pull listener and is scraped once loads
 * none of the OpenTelemetry SDK (no instrument of it is the SDK's), the OTLP ingest (its codecs, checksums, decode thread), the OTLP push exporter, serve's self-telemetry, the debug
 * printer, the config files' parsers and schema validator, the writers of the formats its scrape
 * did not ask for (protobuf, JSON, OpenMetrics 2.0), or the cluster's aggregate, which no member
 * reported to. Counted in a fresh process, since a module once loaded stays loaded; the resolve
 * hook sees `import` and `require` alike.
 *
 * The built files are bundles (scripts/build.ts): dist/meta.json says which of src/'s modules each
 * holds, so a file loaded stands for the modules in it.
 *
 * And what each file costs the loader: Node keeps a record, a job, a compiled top level and the
 * source of every module it loads, and looks up its package scope (the nearest package.json),
 * copying that file's `exports` map out each time; the built files' scope is dist/src/package.json,
 * `type` alone, not the root's. A pull host loads two (the root and the core chunk). And V8 holds
 * each file's source for as long as the process runs, two bytes a character if one character is
 * past Latin-1: the files stay ASCII (a `\u` escape in a string, plain words in a comment).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { findPackageJSON } from 'node:module';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const HOST = `
import { registerHooks } from 'node:module';
const loaded = new Set();
registerHooks({ resolve: (specifier, context, next) => { const r = next(specifier, context); loaded.add(r.url); return r; } });
const { createJobmeter } = await import('jobmeter');
const jm = await createJobmeter({ listener: { host: '127.0.0.1', port: 0 }, global: false });
jm.meter.createCounter('host.requests').add(1);
const body = await (await fetch('http://127.0.0.1:' + jm.pullAddress.port + '/metrics')).text();
if (!body.includes('host_requests')) throw new Error('the scrape did not serve the counter:\\n' + body);
await jm.shutdown();
process.stdout.write(JSON.stringify([...loaded]));
`;

/** What a pull-only host has no use for, as a part of a resolved module URL. */
const UNUSED = [
  // The SDK: no instrument of this host is the SDK's, no View, reader or push (common/otel-sdk.ts).
  '/node_modules/@opentelemetry/sdk-metrics/',
  '/node_modules/@opentelemetry/resources/',
  '/node_modules/@opentelemetry/core/',
  '/node_modules/@opentelemetry/semantic-conventions/',
  '/node_modules/protobufjs/',
  '/node_modules/@opentelemetry/exporter-metrics-otlp-http/',
  '/node_modules/@opentelemetry/exporter-metrics-otlp-proto/',
  '/node_modules/@opentelemetry/otlp-transformer/',
  '/node_modules/crc-32/',
  '/node_modules/js-xxhash/',
  '/node_modules/ajv/',
  '/node_modules/yaml/',
  '/node_modules/smol-toml/',
  '/dist/src/ingest/',
  '/dist/src/otlp/',
  '/dist/src/debug/',
  '/dist/src/config/',
  '/dist/src/exposition/protobuf.js',
  '/dist/src/exposition/json.js',
  '/dist/src/exposition/openmetrics2.js',
  '/dist/src/exposition/native-spans.js',
  '/dist/src/cluster/primary.js',
  '/dist/src/cluster/aggregate.js',
  '/dist/src/cluster/report-encoder.js',
  '/dist/src/cluster/member.js',
  '/dist/src/series/live.js',
  '/dist/src/series/sources.js',
  // `jobmeter serve`'s own telemetry: a host has no telemetry listener to serve it.
  '/dist/src/http/self-telemetry.js',
];

/** dist/meta.json: each built file (`dist/src/…js`) → the modules of src/ in it (`dist/src/…js`). */
function bundled(): Record<string, string[]> {
  return JSON.parse(readFileSync(`${ROOT}dist/meta.json`, 'utf8')) as Record<string, string[]>;
}

/** The modules of src/ in the files at `urls`, as `/dist/src/…js` paths (what UNUSED names). */
function modulesIn(urls: readonly string[]): string[] {
  const meta = bundled();
  return urls
    .filter((url) => url.startsWith(`file://${ROOT}dist/`))
    .flatMap((url) => {
      const modules = meta[url.slice(`file://${ROOT}`.length)];
      assert.ok(modules !== undefined, `${url} is in dist/meta.json`);
      return modules.map((m) => `/${m}`);
    });
}

/** What host script `script` prints, run in a fresh process against the built package. */
async function runHost(script: string): Promise<string> {
  assert.ok(
    existsSync(`${ROOT}dist/src/index.js`),
    'dist/src/index.js is missing: run `npm run build` (npm test builds it first)',
  );
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', script],
    { cwd: ROOT, timeout: 60_000 },
  );
  return stdout;
}

/** The resolved URLs a pull-only host loads, from a fresh process. */
async function pullHostModules(): Promise<string[]> {
  return JSON.parse(await runHost(HOST)) as string[];
}

test('a host serving only a pull listener loads no ingest, codec, push exporter, config parser, unrequested format writer or cluster aggregate', async () => {
  const loaded = await pullHostModules();
  // The hook saw the graph: the root, the Metrics API it builds on.
  assert.ok(
    loaded.some((url) => url.endsWith('/dist/src/index.js')),
    'the package root resolved to dist/',
  );
  assert.ok(
    loaded.some((url) => url.includes('/node_modules/@opentelemetry/api/')),
    'the Metrics API loaded',
  );
  const modules = modulesIn(loaded);
  assert.ok(modules.includes('/dist/src/jobmeter.js'), 'the modules in the files loaded are known');
  const unused = [...loaded.filter((url) => url.includes('/node_modules/')), ...modules].filter(
    (url) => UNUSED.some((part) => url.includes(part)),
  );
  assert.deepEqual(unused, []);
});

test('a host serving only a pull listener loads two of the built files: the root and the core chunk every module it imports is in', async () => {
  const built = (await pullHostModules())
    .filter((url) => url.startsWith(`file://${ROOT}dist/`))
    .map((url) => url.slice(`file://${ROOT}`.length).replace(/-[\w-]+\.js$/, '-*.js'));
  assert.deepEqual(built.sort(), ['dist/src/core-*.js', 'dist/src/index.js']);
});

test("the built modules' package scope is a package.json of `type` alone, not the root's with its exports map", async () => {
  const scope = `${ROOT}dist/src/package.json`;
  assert.deepEqual(JSON.parse(readFileSync(scope, 'utf8')), { type: 'module' });
  const built = (await pullHostModules()).filter((url) => url.includes('/dist/src/'));
  assert.ok(built.length > 0, 'the host loaded the built modules');
  const elsewhere = built.filter((url) => findPackageJSON(url) !== scope);
  assert.deepEqual(elsewhere, [], `every built module's package scope is ${scope}`);
});

/** Built modules not yet held to ASCII. */
test('the built modules a pull host loads are ASCII, so V8 holds their source one byte a character', async () => {
  const built = (await pullHostModules()).filter((url) => url.includes('/dist/src/'));
  assert.ok(built.length > 0, 'the host loaded the built modules');
  const wide = built
    .filter((url) => /[^\x00-\x7f]/.test(readFileSync(new URL(url), 'utf8')))
    .map((url) => url.replace(`file://${ROOT}`, ''));
  assert.deepEqual(wide, []);
});

/** The same host, counting the IPv6 addresses jobmeter reads with `node:net`'s `isIP`. */
const IPV6_HOST = `
import net from 'node:net';
import { syncBuiltinESMExports } from 'node:module';
let v6 = 0;
const { isIP, isIPv6 } = net;
net.isIP = (s) => { if (String(s).includes(':')) v6++; return isIP(s); };
net.isIPv6 = (s) => { v6++; return isIPv6(s); };
syncBuiltinESMExports();
const { createJobmeter } = await import('jobmeter');
const jm = await createJobmeter({ listener: { host: '127.0.0.1', port: 0 }, global: false });
jm.meter.createCounter('host.requests').add(1);
await (await fetch('http://127.0.0.1:' + jm.pullAddress.port + '/metrics')).text();
await jm.shutdown();
process.stdout.write(String(v6));
`;

test("a host served over IPv4 never has jobmeter read an IPv6 address (the first read compiles Node's IPv6 pattern, ~10 ms)", async () => {
  const stdout = await runHost(IPV6_HOST);
  assert.equal(stdout, '0');
});

/**
 * What an ES import of a builtin loads beside it, for the lazy getters of its exports (the module
 * namespace reads every export): node:fs its promises (and readline, for `readLines`), node:util
 * `parseArgs` and `diff`, node:module source maps and worker_threads. ~20 ms of CPU before a host's
 * first scrape; `process.getBuiltinModule` takes the CommonJS exports, read only where used.
 */
const LAZY_EXPORTS = [
  'NativeModule internal/fs/promises',
  'NativeModule internal/readline/interface',
  'NativeModule internal/util/parse_args/parse_args',
  'NativeModule internal/util/diff',
  'NativeModule worker_threads',
];

/** The same host, scraping itself without fetch (which loads undici and zlib), saying whether undici, node:crypto or node:zlib loaded. */
const UNDICI_HOST = `
const http = process.getBuiltinModule('node:http');
const { createJobmeter } = await import('jobmeter');
const jm = await createJobmeter({ listener: { host: '127.0.0.1', port: 0 }, global: false });
jm.meter.createCounter('host.requests').add(1);
const body = await new Promise((resolve, reject) =>
  http.get('http://127.0.0.1:' + jm.pullAddress.port + '/metrics', (res) => {
    let text = '';
    res.setEncoding('utf8').on('data', (d) => (text += d)).on('end', () => resolve(text));
  }).on('error', reject),
);
if (!body.includes('host_requests')) throw new Error('the scrape did not serve the counter:\\n' + body);
await jm.shutdown();
process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => m.includes('undici') || m === 'NativeModule crypto' || m === 'NativeModule zlib' || LAZY_EXPORTS.includes(m))));
`.replace('LAZY_EXPORTS', JSON.stringify(LAZY_EXPORTS));

test("a host serving a pull listener loads no undici (an ESM import of node:http would, for its WebSocket getters: ~40 ms of the host's start), nor node:crypto or node:zlib (~2-3 ms each: asked for where a gate, an access log, a cluster member or a compressed body first needs them), nor the lazy exports an ES import of a builtin would load", async () => {
  assert.deepEqual(JSON.parse(await runHost(UNDICI_HOST)), []);
});

/** A host with the OTLP ingest and no push: it receives one point and is scraped twice. */
const INGEST_HOST = `
import { registerHooks } from 'node:module';
const loaded = new Set();
registerHooks({ resolve: (specifier, context, next) => { const r = next(specifier, context); loaded.add(r.url); return r; } });
const { createJobmeter } = await import('jobmeter');
const jm = await createJobmeter({ listener: { host: '127.0.0.1', port: 0 }, ingest: { port: 0 }, global: false });
const pull = 'http://127.0.0.1:' + jm.pullAddress.port + '/metrics';
await (await fetch(pull)).text();
const point = { asDouble: 7, timeUnixNano: String(Date.now() * 1e6) };
const sent = await fetch('http://' + jm.ingestAddress.host + ':' + jm.ingestAddress.port + '/v1/metrics', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'queue.depth', gauge: { dataPoints: [point] } }] }] }] }),
});
if (sent.status !== 200) throw new Error('the ingest answered ' + sent.status);
const body = await (await fetch(pull)).text();
if (!/^queue_depth(\\{[^}]*\\})? 7$/m.test(body)) throw new Error('the scrape did not serve the point:\\n' + body);
await jm.shutdown();
process.stdout.write(JSON.stringify([...loaded]));
`;

test('a host that ingests OTLP and pushes nothing loads none of the OpenTelemetry SDK either', async () => {
  const stdout = await runHost(INGEST_HOST);
  const loaded = JSON.parse(stdout) as string[];
  assert.ok(
    loaded.some((url) => url.includes('/node_modules/protobufjs/')),
    'the ingest loaded (its codecs)',
  );
  const sdk = loaded.filter((url) =>
    /\/node_modules\/@opentelemetry\/(sdk-metrics|resources|core|semantic-conventions)\//.test(url),
  );
  assert.deepEqual(sdk, []);
});
