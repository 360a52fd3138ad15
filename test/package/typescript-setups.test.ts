/**
 * The packed tarball's types under every TypeScript setup a Node app uses: TypeScript 5.9, 6 and 7
 * (the real compilers, devDependencies) × `module` commonjs (with its default resolution), node16,
 * nodenext and bundler × a CommonJS and an ESM package, each app importing `jobmeter`,
 * `jobmeter/http`, `jobmeter/exposition` and `jobmeter/catalog` with `strict` and no
 * `skipLibCheck`. A CommonJS app's emitted `require('jobmeter')` runs on the project's Node
 * (docs/host-apps.md, "TypeScript settings").
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { packTarball } from './pack.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const COMPILERS = {
  'TypeScript 5.9': 'node_modules/typescript-5/bin/tsc',
  'TypeScript 6': 'node_modules/typescript/bin/tsc6',
  'TypeScript 7': 'node_modules/@typescript/native/bin/tsc',
} as const;

/** The `compilerOptions` each setup sets; the rest are TypeScript's defaults. */
const SETUPS = {
  commonjs: { module: 'commonjs' },
  node16: { module: 'node16' },
  nodenext: { module: 'nodenext' },
  bundler: { module: 'esnext', moduleResolution: 'bundler' },
} as const;

const PACKAGES = ['commonjs', 'module'] as const;

/** An app using one value of each entry point, typed. */
const APP = `import { createJobmeter, type Jobmeter } from 'jobmeter';
import { createMetricsHandler } from 'jobmeter/http';
import { renderPrometheusText } from 'jobmeter/exposition';
import { PROFILE_NAMES } from 'jobmeter/catalog';

export async function main(): Promise<string> {
  const jm: Jobmeter = await createJobmeter({ global: false });
  const handler: unknown = createMetricsHandler;
  const text: string = renderPrometheusText([]);
  await jm.shutdown();
  return [typeof handler, text.length, PROFILE_NAMES.length].join(' ');
}
`;

let dir: string;
let app: string;

before(async () => {
  const packed = await packTarball('jobmeter-typescript-');
  dir = packed.dir;
  app = join(dir, 'app');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'apps', private: true }));
  const nodeTypes = (
    JSON.parse(
      (
        await run('node', ['-p', 'JSON.stringify(require("@types/node/package.json").version)'], {
          cwd: ROOT,
        })
      ).stdout,
    ) as string
  ).trim();
  await run(
    'npm',
    [
      'install',
      packed.tarball,
      `@types/node@${nodeTypes}`,
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
    ],
    { cwd: app, maxBuffer: 16 << 20 },
  );
});

after(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Writes an app of `type` under `setup` in its own folder; compiles it with `tsc`; returns the folder. */
async function compile(
  tsc: string,
  setup: keyof typeof SETUPS,
  type: (typeof PACKAGES)[number],
  emit: boolean,
): Promise<string> {
  const at = join(app, `${tsc.split('/')[1]}-${setup}-${type}`);
  await mkdir(at, { recursive: true });
  await writeFile(join(at, 'package.json'), JSON.stringify({ type }));
  await writeFile(join(at, 'index.ts'), APP);
  await writeFile(
    join(at, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        ...SETUPS[setup],
        target: 'es2022',
        strict: true,
        types: ['node'],
        noEmit: !emit,
        ...(emit && { outDir: 'out' }),
      },
      files: ['index.ts'],
    }),
  );
  await run(process.execPath, [join(ROOT, tsc), '-p', at], { cwd: at }).catch((err: unknown) => {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    assert.fail(`${tsc} under ${setup}, a ${type} package:\n${stdout}${stderr}`);
  });
  return at;
}

for (const [compiler, tsc] of Object.entries(COMPILERS))
  describe(compiler, () => {
    for (const setup of Object.keys(SETUPS) as (keyof typeof SETUPS)[])
      for (const type of PACKAGES)
        it(`resolves every entry point's types under module ${setup}, in a ${type === 'module' ? 'ESM' : 'CommonJS'} package`, async () => {
          await compile(tsc, setup, type, false);
        });
  });

describe("a CommonJS app's emitted require('jobmeter')", () => {
  it('runs on the project Node: the app creates a jobmeter and renders through the other entry points', async () => {
    const at = await compile(COMPILERS['TypeScript 6'], 'commonjs', 'commonjs', true);
    const { stdout } = await run(
      process.execPath,
      ['-e', "require('./out/index.js').main().then((s) => console.log(s))"],
      { cwd: at },
    );
    assert.match(stdout.trim(), /^function 0 \d+$/);
  });

  it("serves a CommonJS host's own MeterProvider (the SDK's CommonJS build beside jobmeter's ES modules)", async () => {
    // The host requires the SDK (its CommonJS build) and jobmeter (ES modules, which import the
    // SDK's ES build): two copies of the SDK's code, one global API, and the reader works with it.
    const host = `const { MeterProvider } = require('@opentelemetry/sdk-metrics');
const { JobmeterReader } = require('jobmeter');
(async () => {
  const reader = new JobmeterReader({ listener: { port: 0 } });
  const provider = new MeterProvider({ readers: [reader] });
  provider.getMeter('app').createCounter('app.jobs').add(2, { queue: 'emails' });
  await reader.ready;
  const res = await fetch('http://127.0.0.1:' + reader.pullAddress.port + '/metrics');
  const cjs = Object.keys(require.cache).some((f) => f.includes('sdk-metrics') && f.endsWith('.cjs'));
  console.log(cjs, (await res.text()).match(/^app_jobs_total\\{[^}]*\\} \\S+$/m)?.[0]);
  await provider.shutdown();
})();
`;
    await writeFile(join(app, 'sdk-host.cjs'), host);
    const { stdout } = await run(process.execPath, ['sdk-host.cjs'], { cwd: app });
    assert.match(stdout.trim(), /^true app_jobs_total\{queue="emails",otel_scope_name="app"\} 2$/);
  });
});
