// Golden renders of the demo scenario, per profile, as served by a real listener, compared byte
// for byte after normalising the few figures that vary between runs.
// UPDATE_GOLDEN=1 node --test test/profiles/golden.test.ts rewrites the files (then review them
// against /work/shared/seeds: names, types, labels, values).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { runDemo } from '../../src/demo/scenarios.ts';
import type { ExpositionFormat } from '../../src/exposition/types.ts';
import type { ProfileName } from '../../src/options.ts';
import { checkExposition } from '../support/exposition-parser.ts';
import { serveOnce, type ServeOptions } from './helpers.ts';

const GOLDEN_DIR = new URL('./golden/', import.meta.url);

/** Each format's Content-Type when the scraper names no `escaping`. */
const CONTENT_TYPE: Readonly<Record<ExpositionFormat, string>> = {
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores',
  text: 'text/plain; version=0.0.4; charset=utf-8',
};

/**
 * Samples whose value depends on the machine or the moment (process and host figures). Their
 * value is replaced by `<dynamic>`; everything else is compared exactly. Keep this list short.
 */
const DYNAMIC_SAMPLES: ReadonlySet<string> = new Set([
  // runwisp: host CPU/memory, process uptime
  'runwisp_daemon_cpu_percent',
  'runwisp_daemon_memory_used_bytes',
  'runwisp_daemon_memory_total_bytes',
  'runwisp_daemon_uptime_seconds',
  // crewshipd: process figures standing in for Go's
  'crewshipd_uptime_seconds',
  'crewshipd_goroutines',
  'crewshipd_memory_alloc_bytes',
  'crewshipd_memory_sys_bytes',
  'crewshipd_gc_runs_total',
  // otel: process and host figures
  'process_uptime_seconds',
  'process_cpu_time_seconds_total',
  'process_memory_usage_bytes',
  'jobmeter_process_gc_count_total',
  'jobmeter_process_active_resources',
  'system_cpu_utilization_ratio',
  'system_memory_usage_bytes',
  'system_memory_limit_bytes',
]);

/**
 * Native families whose very series depend on the moment or the V8 version (the event-loop delay
 * once sampled, GC kinds as collections happen, the heap's spaces): left out of the goldens;
 * test/domain/runtime-metrics.test.ts checks them against a scrape.
 */
const RUNTIME_FAMILY =
  /^(?:# (?:HELP|TYPE|UNIT) )?(?:nodejs_eventloop_|v8js_gc_|v8js_memory_heap_|v8js_resource_active)/;

/** Labels carrying the Node version (rm's `go_version`, otel's `runtime_version`): value → `<dynamic>`. */
const RUNTIME_VERSION_LABELS: readonly string[] = ['go_version', 'runtime_version'];

const DYNAMIC = '<dynamic>';
const RUNTIME_LABEL = new RegExp(`\\b(${RUNTIME_VERSION_LABELS.join('|')})="[^"]*"`, 'g');

function normaliseExposition(text: string): string {
  return text
    .split('\n')
    .filter((line) => !RUNTIME_FAMILY.test(line))
    .map((line) => {
      if (line === '' || line.startsWith('#')) return line;
      const end = line.search(/[{ ]/);
      const name = line.slice(0, end);
      const labelled = line.replace(RUNTIME_LABEL, `$1="${DYNAMIC}"`);
      return DYNAMIC_SAMPLES.has(name)
        ? labelled.slice(0, labelled.lastIndexOf(' ') + 1) + DYNAMIC
        : labelled;
    })
    .join('\n');
}

interface JsonFamily {
  name: string;
  series: Array<{ labels: Record<string, string>; value?: unknown }>;
}

function normaliseJson(body: string): string {
  const doc = JSON.parse(body) as { families?: JsonFamily[] };
  if (doc.families !== undefined)
    doc.families = doc.families.filter((f) => !RUNTIME_FAMILY.test(f.name));
  for (const f of doc.families ?? []) {
    for (const s of f.series) {
      if (DYNAMIC_SAMPLES.has(f.name)) s.value = DYNAMIC;
      for (const label of RUNTIME_VERSION_LABELS) if (label in s.labels) s.labels[label] = DYNAMIC;
    }
  }
  return JSON.stringify(doc, null, 2) + '\n';
}

function golden(file: string, actual: string): void {
  const url = new URL(file, GOLDEN_DIR);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(url, actual, 'utf8');
  assert.equal(
    actual,
    readFileSync(url, 'utf8'),
    `${file} differs; rerun with UPDATE_GOLDEN=1 and review the diff`,
  );
}

const demo = (profile: ProfileName) => (jm: Parameters<ServeOptions['feed']>[0]) =>
  runDemo(jm, profile);

interface Case {
  readonly profile: ProfileName;
  readonly format: ExpositionFormat;
  /** How the format is obtained: forced on the listener, or negotiated from `Accept`. */
  readonly via: Pick<ServeOptions, 'format' | 'accept'>;
}

const OM_ACCEPT = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
const CASES: readonly Case[] = [
  ...(['otel', 'runwisp', 'wasmrun', 'crewshipd', 'rm', 'solti', 'semconv'] as const).map(
    (profile): Case => ({
      profile,
      format: 'text',
      via: { format: 'text' },
    }),
  ),
  { profile: 'runwisp', format: 'openmetrics', via: {} }, // what runwisp serves by default
  { profile: 'otel', format: 'openmetrics', via: { accept: OM_ACCEPT } }, // negotiated
  // wasmrun forced to OpenMetrics: its `_sum`/`_count` counters become `unknown`, names kept exact.
  { profile: 'wasmrun', format: 'openmetrics', via: { format: 'openmetrics' } },
];

for (const c of CASES) {
  const file = `${c.profile}.${c.format === 'text' ? 'prom' : 'om'}.txt`;
  test(`golden ${file}`, async () => {
    const served = await serveOnce(c.profile, { ...c.via, feed: demo(c.profile) });
    assert.equal(served.status, 200);
    assert.equal(served.contentType, CONTENT_TYPE[c.format]);
    assert.deepEqual(
      checkExposition(served.body, c.format),
      [],
      'the raw render follows the format rules',
    );
    golden(file, normaliseExposition(served.body));
  });
}

for (const profile of ['otel', 'runwisp', 'wasmrun', 'crewshipd', 'rm', 'solti'] as const) {
  test(`golden ${profile}.json (?format=json through the listener)`, async () => {
    const served = await serveOnce(profile, { json: true, feed: demo(profile) });
    assert.equal(served.status, 200);
    assert.equal(served.contentType, 'application/json; charset=utf-8');
    golden(`${profile}.json`, normaliseJson(served.body));
  });
}

// What each original serves when the scraper states no preference, per the seeds.
const DEFAULT_FORMAT: Readonly<Record<ProfileName, ExpositionFormat>> = {
  otel: 'text', // negotiates; no Accept → text 0.0.4
  semconv: 'text', // negotiates, as otel
  runwisp: 'openmetrics',
  wasmrun: 'text',
  crewshipd: 'text',
  rm: 'text',
  solti: 'text',
};

for (const profile of Object.keys(DEFAULT_FORMAT) as ProfileName[]) {
  const format = DEFAULT_FORMAT[profile];
  test(`${profile} serves ${format} by default, equal to its golden`, async () => {
    const served = await serveOnce(profile, { feed: demo(profile) });
    assert.equal(served.contentType, CONTENT_TYPE[format]);
    assert.equal(
      normaliseExposition(served.body),
      readFileSync(
        new URL(`${profile}.${format === 'text' ? 'prom' : 'om'}.txt`, GOLDEN_DIR),
        'utf8',
      ),
    );
  });
}

test('every dynamic name is in use, and nothing else is normalised', () => {
  const texts = CASES.map((c) =>
    readFileSync(
      new URL(`${c.profile}.${c.format === 'text' ? 'prom' : 'om'}.txt`, GOLDEN_DIR),
      'utf8',
    ),
  );
  const all = texts.join('\n');
  for (const name of DYNAMIC_SAMPLES) {
    assert.match(
      all,
      new RegExp(`^${name}(\\{[^\\n]*\\})? ${DYNAMIC}$`, 'm'),
      `${name} is listed as dynamic but no golden has it`,
    );
  }
  for (const label of RUNTIME_VERSION_LABELS)
    assert.ok(all.includes(`${label}="${DYNAMIC}"`), `${label} is listed but no golden has it`);
  const normalised = all.split('\n').filter((l) => l.includes(DYNAMIC));
  for (const line of normalised) {
    const name = line.slice(0, line.search(/[{ ]/));
    assert.ok(
      DYNAMIC_SAMPLES.has(name) ||
        RUNTIME_VERSION_LABELS.some((l) => line.includes(`${l}="${DYNAMIC}"`)),
      line,
    );
  }
});
