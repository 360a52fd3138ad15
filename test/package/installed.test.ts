/**
 * The package as a user gets it: `npm pack`, installed into a fresh app by the README's own install
 * lines (the package is not on the registry: it is installed from a checkout; the NodeSDK line with
 * the OpenTelemetry versions that install together), run on each supported
 * Node major (the oldest supported Node 22 and the project's Node 24) — the `jobmeter` bin
 * (`--version`, `serve` started and stopped), the library, the preload — and refused, in one line,
 * by the last Node below the floor. The tarball's contents: exactly the pinned files (the built
 * library and its declarations, the docs' Markdown, dashboards, rules, examples; no pictures, soak
 * data or source maps), `npm publish --dry-run` without a warning of the package's own, the
 * LICENSE, README links that resolve inside it (pictures stay in the checkout), no source map
 * pointing outside it, `@opentelemetry/api` a peer, the job libraries (and `ioredis`, BullMQ's
 * client) and fastify optional ones: the app installs none of them, and all of the above runs
 * without them; the fastify plugin works once the app adds fastify 5, and a fastify 4 app is refused with FST_ERR_PLUGIN_VERSION_MISMATCH.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import {
  EXIT_UNSUPPORTED_NODE,
  MIN_NODE_VERSION,
  NODE_ENGINES,
} from '../../src/common/node-support.ts';
import { VERSION } from '../../src/version.ts';
import { ANY_TELEMETRY_PORT } from '../cli/harness.ts';
import { nodeRuntime } from '../support/node-runtimes.ts';
import { packTarball } from './pack.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/installed/', import.meta.url));
const NODE24 = join(ROOT, 'node_modules/node/bin/node');
const STEP_MS = 20_000;

let dir: string;
let app: string;
let shipped: Set<string>;
let tarball: string;
let readmeInstall: ReadmeInstall;

before(async () => {
  const packed = await packTarball('jobmeter-installed-');
  dir = packed.dir;
  tarball = packed.tarball;
  shipped = new Set(packed.files);
  app = join(dir, 'app');
  await mkdir(app);
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({ name: 'host-app', private: true, type: 'module' }),
  );
  // The README's own install line, with the tarball's real path (and quiet, offline-first flags).
  readmeInstall = readmeInstallLines(await readFile(join(ROOT, 'README.md'), 'utf8'));
  assert.equal(
    packed.filename,
    readmeInstall.tarball,
    "the README's install lines name the tarball npm pack writes",
  );
  await run('npm', [...withTarball(readmeInstall.app[0]!), ...QUIET], {
    cwd: app,
    maxBuffer: 16 << 20,
  });
});

const QUIET = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

/** The lifecycle scripts of npm's install (`prepare` among them), which its install-scripts warning is about. */
const INSTALL_SCRIPTS = [
  'preinstall',
  'install',
  'postinstall',
  'prepublish',
  'preprepare',
  'prepare',
  'postprepare',
];

interface ReadmeInstall {
  /** The tarball `npm pack` writes (from its comment). */
  tarball: string;
  /** The app's `npm install …tgz …` lines of the checkout block, as arguments after `npm`. */
  app: string[][];
  /** Every `npm install` line of the checkout block and of the block for the published package. */
  checkoutLines: string[];
  publishedLines: string[];
}

/** The README's Install section: its first `sh` block installs from a checkout, its second once published. */
function readmeInstallLines(readme: string): ReadmeInstall {
  const section = /## Install\n([^]*?)\n## /.exec(readme)?.[1] ?? '';
  const [checkout = '', published = ''] = [...section.matchAll(/```sh\n([^]*?)```/g)].map(
    (m) => m[1]!,
  );
  const installs = (block: string): string[] =>
    block
      .split('\n')
      .map((l) => l.replace(/#.*$/, '').trim())
      .filter((l) => l.startsWith('npm install '));
  const tarball = /npm pack\s+# writes (\S+)/.exec(checkout)?.[1];
  const app = installs(checkout)
    .filter((l) => /^npm install \S+\.tgz /.test(l))
    .map((l) => l.split(/\s+/).slice(1));
  assert.ok(
    tarball !== undefined && app.length > 0,
    `the README's Install block has npm pack and the app's npm install:\n${checkout}`,
  );
  return { tarball, app, checkoutLines: installs(checkout), publishedLines: installs(published) };
}

/** A README install line's arguments with the tarball's real path for `/path/to/…tgz`. */
function withTarball(args: string[]): string[] {
  return args.map((a) => (a.endsWith(`/${readmeInstall.tarball}`) ? tarball : a));
}

after(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('ships the Apache-2.0 LICENSE that package.json names', async () => {
    assert.ok(shipped.has('LICENSE'), 'LICENSE is in the tarball');
    const text = await readFile(join(app, 'node_modules/jobmeter/LICENSE'), 'utf8');
    assert.match(text, /Apache License\s+Version 2\.0, January 2004/);
  });

  it('every relative link of the README resolves to a file in the tarball, but pictures, which stay in the checkout', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1]!)
      .filter((l) => !/^[a-z]+:|^#/.test(l));
    assert.ok(links.length > 20, `the README has its relative links (${links.length})`);
    const dead = links.filter(
      (l) =>
        !shipped.has(normalize(l.replace(/#.*$/, ''))) &&
        !(PICTURE.test(l) && existsSync(join(ROOT, l))),
    );
    assert.deepEqual(dead, [], 'README links to files the tarball lacks');
  });

  it('ships exactly the pinned files: the built library, its declarations, the docs, dashboards, rules, examples', async () => {
    // dist/: one .d.ts per source file of src/ and instrumentation/, one .d.cts per source file of
    // src/ (dist/cjs/, the `require` conditions' types), the files the build bundled their modules
    // into (dist/meta.json, which stays out), and the built files' package scope (src/package.json,
    // `type` alone), nothing else.
    const sources = [...(await sourceFiles('src')), ...(await sourceFiles('instrumentation'))];
    const bundles = Object.keys(
      JSON.parse(await readFile(join(ROOT, 'dist/meta.json'), 'utf8')) as Record<string, unknown>,
    );
    const built = [
      ...sources.map((f) => `dist/${f.replace(/\.ts$/, '.d.ts')}`),
      ...sources
        .filter((f) => f.startsWith('src/'))
        .map((f) => `dist/cjs/${f.slice('src/'.length).replace(/\.ts$/, '.d.cts')}`),
      ...bundles,
      'dist/src/package.json',
    ];
    const dist = [...shipped].filter((p) => p.startsWith('dist/'));
    assert.deepEqual(
      dist.sort(),
      built.sort(),
      'dist/ as built from src/ and instrumentation/ (a stale file? rm -rf dist && npm run build)',
    );
    assert.deepEqual(
      [...shipped].filter((p) => !p.startsWith('dist/')).sort(),
      [...SHIPPED_BESIDE_DIST].sort(),
    );
    assert.deepEqual(
      [...shipped].filter((p) => /\.(png|svg|csv|map)$/.test(p)),
      [],
      'no pictures, soak data or source maps',
    );
  });

  it('passes `npm publish --dry-run` without a warning about the package', async () => {
    const { stderr } = await run(
      'npm',
      ['publish', '--dry-run', '--ignore-scripts', '--loglevel=warn'],
      { cwd: ROOT, maxBuffer: 16 << 20 },
    );
    // Left out: npm's own words on this machine's npm config (a user key, or the same key from the environment
    // `npm test` runs under), and the login a dry run does not have.
    const warnings = stderr
      .split('\n')
      .filter(
        (l) =>
          /^npm (warn|error)/.test(l) &&
          !/Unknown (?:user |env |project |global )?config|requires you to be logged in/.test(l),
      );
    assert.deepEqual(warnings, []);
    const pkg = JSON.parse(
      await readFile(join(app, 'node_modules/jobmeter/package.json'), 'utf8'),
    ) as { private?: boolean; bin?: Record<string, string> };
    assert.equal(pkg.private, undefined, 'not private');
    assert.deepEqual(pkg.bin, { jobmeter: 'dist/src/cli/bin.js' });
  });

  it('carries no script npm runs when the tarball is installed: no install-scripts warning, dist/ is built when packing', async () => {
    const pkg = JSON.parse(
      await readFile(join(app, 'node_modules/jobmeter/package.json'), 'utf8'),
    ) as { scripts?: Record<string, string> };
    const atInstall = Object.keys(pkg.scripts ?? {}).filter((s) => INSTALL_SCRIPTS.includes(s));
    assert.deepEqual(atInstall, []);
    assert.equal(
      pkg.scripts?.['prepack'],
      'node scripts/build.ts',
      'npm pack and npm publish build dist/',
    );
  });

  it('no source map points at a file the tarball lacks', async () => {
    const dangling: string[] = [];
    for (const path of shipped) {
      if (!path.endsWith('.map')) continue;
      const map = JSON.parse(await readFile(join(app, 'node_modules/jobmeter', path), 'utf8')) as {
        sources: string[];
      };
      for (const source of map.sources) {
        const target = normalize(join(dirname(path), source));
        if (!shipped.has(target)) dangling.push(`${path} → ${source}`);
      }
    }
    for (const path of shipped) {
      if (!path.endsWith('.js')) continue;
      const js = await readFile(join(app, 'node_modules/jobmeter', path), 'utf8');
      const ref = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(js)?.[1];
      if (ref !== undefined && !shipped.has(normalize(join(dirname(path), ref))))
        dangling.push(`${path} → ${ref}`);
    }
    assert.deepEqual(dangling, []);
  });

  it('declares the supported Node range and @opentelemetry/api as a peer: the host has one copy of the API', async () => {
    const pkg = JSON.parse(
      await readFile(join(app, 'node_modules/jobmeter/package.json'), 'utf8'),
    ) as Record<string, Record<string, string> | undefined>;
    assert.equal(pkg.engines?.node, NODE_ENGINES);
    assert.ok(pkg.peerDependencies?.['@opentelemetry/api'] !== undefined, 'a peer dependency');
    assert.equal(
      pkg.dependencies?.['@opentelemetry/api'],
      undefined,
      'not a dependency of its own',
    );
    assert.deepEqual(await copiesOf(join(app, 'node_modules'), '@opentelemetry/api'), [
      'node_modules/@opentelemetry/api',
    ]);
  });
});

describe("the README's install lines", () => {
  it('once published, the same lines name the package instead of the tarball', () => {
    const asPublished = readmeInstall.checkoutLines.map((l) =>
      l.replace(/\S*\/\S+\.tgz/, 'jobmeter'),
    );
    assert.deepEqual(readmeInstall.publishedLines, asPublished);
  });

  it("beside OpenTelemetry's NodeSDK: the pinned versions install together, one copy of the API, and way 2 serves", async () => {
    const line = readmeInstall.app.find((args) =>
      args.some((a) => a.startsWith('@opentelemetry/sdk-node@')),
    );
    assert.ok(line !== undefined, "the README has the NodeSDK app's install line");
    const withSdk = join(dir, 'app-node-sdk');
    await mkdir(withSdk);
    await writeFile(
      join(withSdk, 'package.json'),
      JSON.stringify({ name: 'host-app-node-sdk', private: true, type: 'module' }),
    );
    await run('npm', [...withTarball(line), ...QUIET], { cwd: withSdk, maxBuffer: 16 << 20 });
    assert.deepEqual(await copiesOf(join(withSdk, 'node_modules'), '@opentelemetry/api'), [
      'node_modules/@opentelemetry/api',
    ]);
    await writeFile(join(withSdk, 'node-sdk.mjs'), await readFile(join(FIXTURES, 'node-sdk.mjs')));
    const r = await exec(NODE24, ['node-sdk.mjs'], {}, NODE24, withSdk);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^solti_runner_tasks_completed_total\{outcome="success",runner="wasm"\} 1$/m,
    );
  });

  it('@opentelemetry/sdk-trace-node 2.x cannot join them (ERESOLVE)', async () => {
    const line = readmeInstall.app.find((args) =>
      args.some((a) => a.startsWith('@opentelemetry/sdk-node@')),
    )!;
    const withTrace = join(dir, 'app-sdk-trace-node');
    await mkdir(withTrace);
    await writeFile(
      join(withTrace, 'package.json'),
      JSON.stringify({ name: 'host-app-sdk-trace-node', private: true, type: 'module' }),
    );
    await assert.rejects(
      run('npm', [...withTarball(line), '@opentelemetry/sdk-trace-node@2', ...QUIET], {
        cwd: withTrace,
        maxBuffer: 16 << 20,
      }),
      (err: { stderr?: string }) =>
        /ERESOLVE/.test(err.stderr ?? '') &&
        /@opentelemetry\/sdk-trace-node/.test(err.stderr ?? ''),
    );
  });
});

describe('the job libraries, optional peers', () => {
  it('each library an integration imports, and ioredis, which BullMQ makes its connections with, is an optional peer the package does not install', async () => {
    const pkg = JSON.parse(
      await readFile(join(app, 'node_modules/jobmeter/package.json'), 'utf8'),
    ) as Record<string, Record<string, unknown> | undefined>;
    for (const name of ['bullmq', 'ioredis', 'pg-boss', 'node-cron', 'graphile-worker']) {
      assert.equal(pkg.dependencies?.[name], undefined, `${name}: not a dependency`);
      assert.deepEqual(
        pkg.peerDependencies?.[name] !== undefined && pkg.peerDependenciesMeta?.[name],
        { optional: true },
        `${name}: an optional peer`,
      );
      assert.equal(
        existsSync(join(app, 'node_modules', name)),
        false,
        `node_modules/${name} is absent`,
      );
    }
    // BullMQ declares ioredis an optional peer of its own: jobmeter asks for what BullMQ asks for.
    const bullmq = JSON.parse(
      await readFile(join(ROOT, 'node_modules/bullmq/package.json'), 'utf8'),
    ) as { peerDependencies: Record<string, string> };
    assert.equal(pkg.peerDependencies?.['ioredis'], bullmq.peerDependencies['ioredis']);
  });
});

describe('fastify, an optional peer', () => {
  it('is declared an optional peer and not installed with the package', async () => {
    const pkg = JSON.parse(
      await readFile(join(app, 'node_modules/jobmeter/package.json'), 'utf8'),
    ) as Record<string, Record<string, unknown> | undefined>;
    assert.equal(pkg.dependencies?.['fastify'], undefined, 'not a dependency');
    assert.match(String(pkg.peerDependencies?.['fastify']), /^\^5\./);
    assert.deepEqual(pkg.peerDependenciesMeta?.['fastify'], { optional: true });
    assert.equal(
      existsSync(join(app, 'node_modules/fastify')),
      false,
      'node_modules/fastify is absent',
    );
  });

  it("a TypeScript app without fastify type-checks against the package's declarations (skipLibCheck off)", async () => {
    // The plugin's declared type does not name fastify's, so no declaration jobmeter ships imports it.
    const tsApp = join(dir, 'app-ts');
    await mkdir(tsApp);
    await writeFile(
      join(tsApp, 'main.ts'),
      [
        "import { createJobmeter, type Jobmeter } from 'jobmeter';",
        "import { createMetricsHandler, jobmeterMetrics, type JobmeterMetricsPlugin } from 'jobmeter/http';",
        'const jm: Jobmeter = await createJobmeter({ listener: false });',
        "const handler = createMetricsHandler({ jobmeter: jm, posture: 'otel' });",
        'const plugin: JobmeterMetricsPlugin = jobmeterMetrics;',
        'void handler;',
        'void plugin;',
      ].join('\n'),
    );
    const compilerOptions = {
      strict: true,
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      noEmit: true,
      skipLibCheck: false,
      // Node's own types from this repository: the app installs nothing but the package.
      typeRoots: [join(ROOT, 'node_modules/@types')],
      types: ['node'],
    };
    await writeFile(
      join(tsApp, 'tsconfig.json'),
      JSON.stringify({ compilerOptions, files: ['main.ts'] }),
    );
    // The app's modules are the first app's (the package, its dependencies, its peer @opentelemetry/api; no fastify).
    await writeFile(
      join(tsApp, 'package.json'),
      JSON.stringify({ name: 'host-app-ts', private: true, type: 'module' }),
    );
    await symlink(join(app, 'node_modules'), join(tsApp, 'node_modules'));
    assert.equal(existsSync(join(tsApp, 'node_modules/fastify')), false);
    const r = await exec(
      NODE24,
      [join(ROOT, 'node_modules/@typescript/native/bin/tsc'), '-p', join(tsApp, 'tsconfig.json')],
      {},
      NODE24,
      tsApp,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  for (const [major, expected] of [
    [
      5,
      (out: PluginRun) => {
        assert.equal(out.error, undefined);
        assert.equal(out.status, 200);
        assert.match(
          out.body ?? '',
          /^jobmeter_run_finished_total\{task="compile",kind="task",runner="subprocess",outcome="success",[^}]*\} 1$/m,
        );
      },
    ],
    [4, (out: PluginRun) => assert.equal(out.error, 'FST_ERR_PLUGIN_VERSION_MISMATCH')],
  ] as const) {
    it(`an app that adds fastify ${major} ${major === 5 ? 'serves through the plugin' : 'is refused by npm (ERESOLVE) and, forced, at registration'}`, async () => {
      const withFastify = join(dir, `app-fastify${major}`);
      await mkdir(withFastify);
      await writeFile(
        join(withFastify, 'package.json'),
        JSON.stringify({ name: `host-app-fastify${major}`, private: true, type: 'module' }),
      );
      // npm itself refuses fastify 4 next to the peer range (ERESOLVE); a host that forces it past
      // that (peers then installed by hand) meets fastify's own check at registration.
      const api = `@opentelemetry/api@${(JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> }).peerDependencies['@opentelemetry/api']}`;
      const install = [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--loglevel=error',
        tarball,
        `fastify@${major}`,
      ];
      if (major === 4) {
        await assert.rejects(
          run('npm', install, { cwd: withFastify, maxBuffer: 16 << 20 }),
          (err: { stderr?: string }) => /ERESOLVE/.test(err.stderr ?? ''),
        );
        install.push('--legacy-peer-deps', api);
      }
      await run('npm', install, { cwd: withFastify, maxBuffer: 16 << 20 });
      await writeFile(
        join(withFastify, 'plugin.mjs'),
        await readFile(join(FIXTURES, 'plugin.mjs')),
      );
      const r = await exec(NODE24, ['plugin.mjs'], {}, NODE24, withFastify);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as PluginRun;
      assert.match(out.version, new RegExp(`^${major}\\.`));
      expected(out);
    });
  }
});

/** What test/fixtures/installed/plugin.mjs prints. */
interface PluginRun {
  version: string;
  status?: number;
  body?: string;
  error?: string;
}

describe('examples/systemd/jobmeter.service', () => {
  it('is shipped and passes `systemd-analyze verify`, run by the installed bin itself', async () => {
    assert.ok(shipped.has('examples/systemd/jobmeter.service'));
    const unit = await readFile(join(ROOT, 'examples/systemd/jobmeter.service'), 'utf8');
    const execStart = /^ExecStart=(\S+) serve /m.exec(unit);
    assert.equal(
      execStart?.[1],
      '/usr/local/bin/jobmeter',
      'ExecStart runs the jobmeter bin, no npm or shell between',
    );
    const path = join(dir, 'jobmeter.service');
    await writeFile(
      path,
      unit.replaceAll('/usr/local/bin/jobmeter', join(app, 'node_modules/.bin/jobmeter')),
    );
    const verify = await run('systemd-analyze', ['verify', path]).catch((caught: unknown) => {
      const err = caught as NodeJS.ErrnoException & { stderr?: string };
      if (err.code === 'ENOENT')
        throw new Error('systemd-analyze is missing: apt-get install -y systemd');
      throw new Error(`systemd-analyze verify failed: ${err.message}`);
    });
    assert.equal(verify.stderr, '');
  });
});

for (const [major, node] of [
  [`Node ${MIN_NODE_VERSION} (the oldest supported)`, () => nodeRuntime('NODE_OLDEST_SUPPORTED')],
  ['Node 24', () => NODE24],
] as const) {
  describe(`installed, on ${major}`, () => {
    it('the bin prints its version', async () => {
      const r = await bin(node(), ['--version']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.startsWith(`jobmeter ${VERSION} (commit `), r.stdout);
    });

    it('the bin serves /metrics and the OTLP ingest, and stops on SIGTERM with exit 0', async () => {
      const config = join(app, 'ingest.toml');
      await writeFile(config, '[ingest]\nenabled = true\nport = 0\n');
      const child = spawn(
        join(app, 'node_modules/.bin/jobmeter'),
        ['serve', '--listen', '127.0.0.1:0', '--config', config],
        {
          cwd: app,
          env: { ...envFor(node()), ...ANY_TELEMETRY_PORT },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const exited = new Promise<number | string>((resolve) =>
        child.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown')),
      );
      try {
        const url = await until(
          () => /^jobmeter: serving otel metrics on (\S+)$/m.exec(stderr)?.[1],
          exited,
          () => stderr,
        );
        const ingest = await until(
          () => /^jobmeter: receiving OTLP\/HTTP metrics on (\S+)$/m.exec(stderr)?.[1],
          exited,
          () => stderr,
        );
        const pushed = await fetch(ingest, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: OTLP_GAUGE,
        });
        assert.equal(pushed.status, 200, await pushed.clone().text());
        const response = await fetch(url);
        assert.equal(response.status, 200);
        const body = await response.text();
        assert.match(body, /^process_uptime_seconds\{/m);
        assert.match(body, /^installed_queue_depth(\{[^}]*\})? 7$/m);
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(await within(exited, STEP_MS), 0, stderr);
    });

    it("the library serves through the package exports (its listener and the node:http handler), its diag warnings reach the host, and a host's observable instrument loads the SDK when made", async () => {
      await writeFile(join(app, 'library.mjs'), await readFile(join(FIXTURES, 'library.mjs')));
      const r = await exec(node(), ['library.mjs'], {});
      assert.equal(r.code, 0, r.stderr);
      const { body, observedBody, handlerBody, warnings, processWarnings } = JSON.parse(
        r.stdout,
      ) as {
        body: string;
        observedBody: string;
        handlerBody: string;
        warnings: string[];
        processWarnings: string[];
      };
      assert.doesNotMatch(body, /^app_pool_size/m);
      assert.match(observedBody, /^app_pool_size(\{[^}]*\})? 4$/m);
      assert.deepEqual(processWarnings, []);
      for (const served of [body, handlerBody]) {
        assert.match(
          served,
          /^jobmeter_run_finished_total\{task="compile",kind="task",runner="subprocess",outcome="success",[^}]*\} 1$/m,
        );
      }
      assert.ok(
        warnings.some((w) => w.includes('NaN')),
        `the host's diag logger got the NaN warning: ${JSON.stringify(warnings)}`,
      );
    });

    it('the preload starts jobmeter from the environment', async () => {
      await writeFile(join(app, 'preloaded.mjs'), await readFile(join(FIXTURES, 'preloaded.mjs')));
      const r = await exec(node(), ['--import', 'jobmeter/instrumentation', 'preloaded.mjs'], {
        JOBMETER_LISTEN: '127.0.0.1:0',
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        /^jobmeter_run_finished_total\{task="nightly",kind="task",runner="subprocess",outcome="success",[^}]*\} 1$/m,
      );
    });
  });
}

describe('installed, below the supported Node', () => {
  it('the bin refuses in one line naming the version needed, exit 3', async () => {
    const old = nodeRuntime('NODE_BELOW_SUPPORTED');
    const version = (await run(old, ['--version'])).stdout.trim().replace(/^v/, '');
    for (const args of [['--version'], ['serve']]) {
      const r = await bin(old, args);
      assert.equal(r.code, EXIT_UNSUPPORTED_NODE);
      assert.equal(r.stdout, '');
      assert.equal(
        r.stderr,
        `jobmeter: Node.js >=${MIN_NODE_VERSION} is required; this is Node.js ${version}\n`,
      );
    }
  });

  it("the library's every entry refuses at import in the same one line (issue 59, point 3)", async () => {
    const old = nodeRuntime('NODE_BELOW_SUPPORTED');
    const version = (await run(old, ['--version'])).stdout.trim().replace(/^v/, '');
    const entries = ['jobmeter', 'jobmeter/http', 'jobmeter/exposition', 'jobmeter/catalog'];
    for (const entry of [...entries, 'jobmeter/instrumentation']) {
      const r = await exec(
        old,
        ['-e', `import(${JSON.stringify(entry)}).catch((e) => console.log(e.stack))`],
        {},
      );
      assert.equal(
        r.stdout,
        `jobmeter: Node.js >=${MIN_NODE_VERSION} is required; this is Node.js ${version}\n`,
        `import('${entry}') on Node ${version}: ${r.stdout}${r.stderr}`,
      );
    }
  });
});

/** One gauge point as OTLP/JSON, as a daemon's OTel SDK would push it. */
const OTLP_GAUGE = JSON.stringify({
  resourceMetrics: [
    {
      resource: {
        attributes: [{ key: 'service.name', value: { stringValue: 'installed-daemon' } }],
      },
      scopeMetrics: [
        {
          scope: { name: 'daemon' },
          metrics: [
            {
              name: 'installed.queue.depth',
              gauge: { dataPoints: [{ asDouble: 7, timeUnixNano: String(Date.now() * 1e6) }] },
            },
          ],
        },
      ],
    },
  ],
});

/** The environment a user's shell gives the bin: `node` on PATH is `node`'s directory. */
function envFor(node: string): Record<string, string> {
  return { PATH: `${dirname(node)}:/usr/bin:/bin`, HOME: process.env.HOME ?? '' };
}

/** Runs the installed bin as a user would (its `#!/usr/bin/env node` finds `node` on PATH). */
function bin(
  node: string,
  args: string[],
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return exec(join(app, 'node_modules/.bin/jobmeter'), args, {}, node);
}

async function exec(
  file: string,
  args: string[],
  env: Record<string, string>,
  node: string = file,
  cwd: string = app,
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const child = spawn(file, args, {
    cwd,
    env: { ...envFor(node), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await within(
    new Promise<number | string>((resolve) =>
      child.once('close', (c, signal) => resolve(c ?? signal ?? 'unknown')),
    ),
    STEP_MS,
    () => child.kill('SIGKILL'),
  );
  return { code, stdout, stderr };
}

const PICTURE = /\.(png|svg)$/;

/** What the tarball ships beside dist/: the reader's files, none of the checkout's bulk. */
const SHIPPED_BESIDE_DIST = [
  'LICENSE',
  'README.md',
  'package.json',
  'otel-collector.yaml',
  'bench/README.md',
  'dashboards/crewshipd.json',
  'dashboards/otel.json',
  'dashboards/rm.json',
  'dashboards/runwisp.json',
  'dashboards/semconv.json',
  'dashboards/serve.json',
  'dashboards/solti.json',
  'dashboards/wasmrun.json',
  'docs/ARCHITECTURE.md',
  'docs/collector-profiles.md',
  'docs/collector.md',
  'docs/config.schema.json',
  'docs/dashboards.md',
  'docs/design-notes.md',
  'docs/development.md',
  'docs/exemplars.md',
  'docs/fleet.md',
  'docs/host-apps.md',
  'docs/install.md',
  'docs/integrations.md',
  'docs/options.md',
  'docs/postures.md',
  'docs/profiles.md',
  'docs/pull-endpoint.md',
  'docs/serve.md',
  'docs/profiles/crewshipd.md',
  'docs/profiles/otel.md',
  'docs/profiles/rm.md',
  'docs/profiles/runwisp.md',
  'docs/profiles/semconv.md',
  'docs/profiles/solti.md',
  'docs/profiles/wasmrun.md',
  'docs/soak/faults/summary.md',
  'docs/soak/restarts-summary.md',
  'docs/soak/summary.md',
  'examples/bullmq-worker/main.ts',
  'examples/cluster/main.ts',
  'examples/otel-host/main.ts',
  'examples/pg-boss-worker/main.ts',
  'examples/systemd/jobmeter.service',
  'examples/task-daemon/README.md',
  'examples/task-daemon/jobmeter.toml',
  'examples/task-daemon/main.ts',
  'examples/task-daemon/scheduler.ts',
  'examples/task-daemon/tasks.ts',
  'rules/crewshipd.rules.yml',
  'rules/otel.rules.yml',
  'rules/rm.rules.yml',
  'rules/runwisp.rules.yml',
  'rules/semconv.rules.yml',
  'rules/serve.rules.yml',
  'rules/solti.rules.yml',
  'rules/wasmrun.rules.yml',
];

/** The .ts files tsc compiles under `folder` of the checkout (declaration files emit nothing), as paths from its root. */
async function sourceFiles(folder: string): Promise<string[]> {
  const entries = await readdir(join(ROOT, folder), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name).slice(ROOT.length));
}

/** Every installed copy of package `name` under `nodeModules`, as paths relative to its parent. */
async function copiesOf(nodeModules: string, name: string): Promise<string[]> {
  const found: string[] = [];
  const base = dirname(nodeModules);
  const walk = async (modules: string): Promise<void> => {
    if (existsSync(join(modules, name, 'package.json')))
      found.push(join(modules, name).slice(base.length + 1));
    for (const entry of await readdir(modules, { withFileTypes: true }).catch(() => [])) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const scoped = entry.name.startsWith('@');
      const packages = scoped
        ? (await readdir(join(modules, entry.name))).map((n) => join(entry.name, n))
        : [entry.name];
      for (const p of packages) await walk(join(modules, p, 'node_modules'));
    }
  };
  await walk(nodeModules);
  return found.sort();
}

async function within<T>(promise: Promise<T>, ms: number, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`not done within ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `probe` until it returns a value; rejects if the child exits first or after STEP_MS. */
async function until<T>(
  probe: () => T | undefined,
  exited: Promise<unknown>,
  log: () => string,
): Promise<T> {
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (done) throw new Error(`exited before it was ready; stderr:\n${log()}`);
    if (Date.now() > deadline) throw new Error(`not ready within ${STEP_MS} ms; stderr:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
