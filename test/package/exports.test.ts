/**
 * The package's public surface, pinned: every subpath package.json exports, the values each one
 * exports (read from the built dist/ through the package's own name, as a host imports them) and
 * the types (read from its declaration file). The root is the host API; mounting the route, the
 * renderers and the catalog data are subpaths of their own. A name added or moved is a change to
 * this list, on purpose.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Subpath → [values, types], each sorted. */
const SURFACE: Record<string, [string[], string[]]> = {
  '.': [
    [
      'ConfigError',
      'JobmeterReader',
      'VERSION',
      'createJobmeter',
      'createRecorder',
      'guardMeter',
      'jobmeterViews',
    ],
    [
      'AttributeSpec',
      'BoundCounter',
      'BoundGauge',
      'BoundHistogram',
      'BuildInfo',
      'Declared',
      'DeclaredCounter',
      'DeclaredGauge',
      'DeclaredHistogram',
      'DeclaredInstrumentSpec',
      'DeclaredInstruments',
      'FamilyRule',
      'FinishDetails',
      'FinishedRun',
      'HostInstruments',
      'HostRecord',
      'HostRecorderOptions',
      'HostSnapshot',
      'IngestOptions',
      'InstrumentKind',
      'InstrumentSpec',
      'Jobmeter',
      'JobmeterOptions',
      'JobmeterReaderOptions',
      'JobmeterViewsOptions',
      'Observation',
      'ObservedValue',
      'OldestWaiting',
      'OtlpProtocol',
      'OtlpPushOptions',
      'Outcome',
      'ProfileName',
      'ProfileOptions',
      'PullListenerOptions',
      'QueueSourceOptions',
      'Recorder',
      'RunAttributes',
      'RunHandle',
      'SessionRecord',
      'SnapshotCallback',
      'SnapshotSourceOptions',
      'StartDetails',
      'TimeValue',
      'TranslationStrategy',
    ],
  ],
  './http': [
    [
      'POSTURES',
      'POSTURE_NAMES',
      'createMetricsHandler',
      'createMetricsMiddleware',
      'describeMetricsRoute',
      'jobmeterMetrics',
      'setAccessLogTenant',
    ],
    [
      'AccessLogOptions',
      'ApiKey',
      'DenyStatus',
      'GateKind',
      'JobmeterMetricsOptions',
      'JobmeterMetricsPlugin',
      'LineSink',
      'MetricsHandler',
      'MetricsMiddleware',
      'MetricsRouteInfo',
      'MetricsSource',
      'Posture',
      'PostureName',
    ],
  ],
  './exposition': [
    ['renderOpenMetrics', 'renderPrometheusText'],
    [
      'ExpositionFormat',
      'Family',
      'FamilyType',
      'HistogramSeries',
      'NativeBuckets',
      'NumberColumns',
      'NumberSeries',
    ],
  ],
  './catalog': [
    [
      'ATTEMPTS',
      'DEFAULT_RUN_DURATION_BUCKETS',
      'DOMAIN_INSTRUMENTS',
      'OTHER',
      'OUTCOMES',
      'PROCESS_INSTRUMENTS',
      'PROFILE_NAMES',
      'WAIT_BUCKETS',
    ],
    [],
  ],
  './instrumentation': [['jobmeter'], []],
  './bullmq': [['instrumentWorker'], ['BullMQOptions', 'Instrumentation', 'IntegrationOptions']],
  './pg-boss': [['instrumentBoss'], ['Instrumentation', 'IntegrationOptions', 'PgBossOptions']],
  './node-cron': [['instrumentTask'], ['Instrumentation', 'IntegrationOptions', 'NodeCronOptions']],
  './graphile-worker': [
    ['instrumentRunner'],
    ['GraphileWorkerOptions', 'Instrumentation', 'IntegrationOptions', 'Queryable'],
  ],
};

const PKG = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
  name: string;
  types: string;
  typesVersions: Record<'*', Record<string, string[]>>;
  exports: Record<
    string,
    { types: string; default: string; require?: { types: string; default: string } }
  >;
};

/** The names a declaration file exports as types only (`export type { A, B } from …`, `export type X = …`, `export interface X`). */
function typeNames(dts: string): string[] {
  const names: string[] = [];
  for (const m of dts.matchAll(/^export type \{([^}]*)\}/gm))
    names.push(
      ...m[1]!
        .split(',')
        .map((n) =>
          n
            .trim()
            .split(/\s+as\s+/)
            .pop()!,
        )
        .filter(Boolean),
    );
  for (const m of dts.matchAll(/^export (?:declare )?(?:type|interface) (\w+)/gm))
    names.push(m[1]!);
  return names.sort();
}

describe('the package exports', () => {
  it('exactly these subpaths', () => {
    assert.deepEqual(Object.keys(PKG.exports).sort(), Object.keys(SURFACE).sort());
  });

  it('every subpath has its types where TypeScript looks without `exports` (node10: `types`, `typesVersions`) and under `require` (CommonJS declarations, the same module)', () => {
    const { ['.']: root, ...subpaths } = PKG.exports;
    assert.equal(PKG.types, root!.types);
    assert.deepEqual(
      PKG.typesVersions['*'],
      Object.fromEntries(Object.entries(subpaths).map(([k, e]) => [k.slice(2), [e.types]])),
    );
    for (const [subpath, entry] of Object.entries(PKG.exports)) {
      // The preload's module has top-level await: `require` cannot load it, so it has no `require`.
      if (subpath === './instrumentation') continue;
      assert.deepEqual(entry.require, {
        types: entry.types.replace('./dist/src/', './dist/cjs/').replace(/\.d\.ts$/, '.d.cts'),
        default: entry.default,
      });
    }
  });

  it("every subpath is named in docs/host-apps.md's opening section", () => {
    const page = readFileSync(`${ROOT}docs/host-apps.md`, 'utf8');
    const section = page.slice(0, page.indexOf('## 1. jobmeter owns the provider'));
    for (const subpath of Object.keys(SURFACE)) {
      const specifier = subpath === '.' ? PKG.name : `${PKG.name}/${subpath.slice(2)}`;
      assert.ok(section.includes(`\`${specifier}\``), specifier);
    }
  });

  for (const [subpath, [values, types]] of Object.entries(SURFACE)) {
    const specifier = subpath === '.' ? PKG.name : `${PKG.name}/${subpath.slice(2)}`;
    it(`${specifier}: its values and types`, async () => {
      const entry = PKG.exports[subpath]!;
      assert.ok(
        existsSync(`${ROOT}${entry.default}`),
        `${entry.default} is missing: run \`npm run build\` (npm test builds it first)`,
      );
      // The preload's module starts a jobmeter when imported: its surface is read from its declarations.
      if (subpath !== './instrumentation')
        assert.deepEqual(Object.keys(await import(specifier)).sort(), values);
      const dts = readFileSync(`${ROOT}${entry.types}`, 'utf8');
      const declaredValues = [...dts.matchAll(/^export \{([^}]*)\}/gm)].flatMap((m) =>
        m[1]!
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean),
      );
      declaredValues.push(
        ...[...dts.matchAll(/^export declare (?:const|let|function|class) (\w+)/gm)].map(
          (m) => m[1]!,
        ),
      );
      assert.deepEqual(
        declaredValues.sort(),
        values,
        'the declaration file exports the same values',
      );
      assert.deepEqual(typeNames(dts), types);
    });
  }
});
