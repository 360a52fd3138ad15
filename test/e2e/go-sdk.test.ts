/**
 * A daemon in Go — as three of the five originals are — on the OpenTelemetry Go SDK with its
 * official OTLP/HTTP exporter (test/peers/go-daemon, built by the test preflight), records the
 * canonical instruments for a script of runs and pushes them to jobmeter's ingest. For every
 * profile, the pull endpoint then serves exactly what an embedded Node host serves for the same
 * runs: same names, types, label sets and values.
 *
 * Like a daemon with a database, the Go program reports its run totals and last failure as
 * observable instruments; the embedded host's snapshot gives the same last failure. Under the native
 * profile the series carry their sender's instrumentation scope (the Go daemon's `otel_scope_*`,
 * asserted), so those two labels are compared apart.
 */
import assert from 'node:assert/strict';
import { isNativeProfileName } from '../../src/common/option-values.ts';
import { after, describe, it } from 'node:test';
import { DEFAULT_RUN_DURATION_BUCKETS } from '../../src/index-catalog.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { LEGACY_PROFILES } from '../../src/naming/profiles/index.ts';
import type { ProfileName } from '../../src/options.ts';
import { diffSeries, seriesTable } from '../support/series-diff.ts';
import type { Run } from './collector-runs.ts';
import { goDaemon, runsOf } from './go-sdk.ts';

const PROFILES: readonly ProfileName[] = ['otel', 'runwisp', 'wasmrun', 'crewshipd', 'rm', 'solti'];
const LAST_FAILURE_SECONDS = 1_781_349_000;
const TRICKY_ERROR = 'spawn "sh" failed\nretry';
/** solti's error words are a closed set (its original's enum); the others take any, quotes and newline too. */
const errorFor = (profile: ProfileName): string =>
  profile === 'solti' ? 'spawn_failed' : TRICKY_ERROR;

/** Runs whose words each profile's original knows (rm's job kinds; runwisp's task/service). */
const runsFor = (profile: ProfileName): Run[] =>
  runsOf(profile === 'rm' ? ['backup', 'prune', 'check'] : ['task', 'service', 'task']);

const bucketsFor = (profile: ProfileName): readonly number[] =>
  (isNativeProfileName(profile)
    ? undefined
    : LEGACY_PROFILES[profile].buckets?.['jobmeter.run.duration']) ?? DEFAULT_RUN_DURATION_BUCKETS;

/** The native profile keeps each sender's instrumentation scope: the Go daemon's, not jobmeter's. */
const SCOPE_LABELS = ['otel_scope_name', 'otel_scope_version'];

async function pulledText(jm: Jobmeter): Promise<{ text: string; format: 'text' | 'openmetrics' }> {
  const res = await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, {
    headers: { accept: 'text/plain;version=0.0.4' },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200);
  const format = res.headers.get('content-type')!.startsWith('application/openmetrics-text')
    ? 'openmetrics'
    : 'text';
  return { text: await res.text(), format };
}

const started: Jobmeter[] = [];
after(async () => {
  await Promise.allSettled(started.map((jm) => jm.shutdown()));
});

describe('a Go daemon on the OpenTelemetry Go SDK pushing to jobmeter', () => {
  for (const profile of PROFILES) {
    it(`${profile}: the pull endpoint equals an embedded Node host's for the same runs`, async () => {
      const common = {
        profile,
        serviceName: 'daemon',
        listener: { port: 0 },
        processMetrics: false,
        hostname: 'host-1',
        global: false,
      } as const;
      const served = await createJobmeter({ ...common, ingest: { port: 0 } });
      const embedded = await createJobmeter(common);
      started.push(served, embedded);

      const runs = runsFor(profile);
      await goDaemon({
        endpoint: `http://127.0.0.1:${served.ingestAddress!.port}/v1/metrics`,
        service: 'go-daemon',
        buckets: bucketsFor(profile),
        runs,
        errors: [{ runner: 'subprocess', error: errorFor(profile) }],
        rejects: ['concurrency', 'payload'],
        lastFailureSeconds: LAST_FAILURE_SECONDS,
      });

      for (const r of runs)
        embedded.recordRun({
          task: r.task,
          kind: r.kind,
          runner: r.runner,
          outcome: r.outcome,
          durationSeconds: r.seconds,
        });
      embedded.runnerError('subprocess', errorFor(profile));
      embedded.reject('concurrency');
      embedded.reject('payload');
      embedded.setSnapshotSource(() => ({ lastFailureSeconds: LAST_FAILURE_SECONDS }));

      const fromGo = await pulledText(served);
      const dropLabels = profile === 'otel' ? SCOPE_LABELS : [];
      // The ingest's own self-metric, which the embedded host (no ingest) has not: nothing of the
      // daemon's refused.
      const refused = [
        ...fromGo.text.matchAll(/^jobmeter_ingest_refused_total\{[^}]*\} (\S+)$/gm),
      ].map(([, value]) => Number(value));
      assert.ok(
        refused.every((v) => v === 0),
        'no point refused',
      );
      const ingested = seriesTable(fromGo.text, {
        format: fromGo.format,
        dropLabels,
        dropFamilies: ['jobmeter_ingest_refused_total'],
      });
      const local = seriesTable((await pulledText(embedded)).text, {
        format: fromGo.format,
        dropLabels,
      });
      if (profile === 'otel') {
        const runSeries = fromGo.text
          .split('\n')
          .filter((l) => l.startsWith('jobmeter_run_finished_total{'));
        assert.ok(
          runSeries.length > 0 &&
            runSeries.every((l) =>
              l.includes('otel_scope_name="go-daemon",otel_scope_version="1.4.2"'),
            ),
          runSeries.join('\n'),
        );
      }
      const diff = diffSeries(local, ingested);
      assert.deepEqual(
        diff,
        { onlyLeft: [], onlyRight: [], values: [], types: [] },
        `embedded (left) vs Go daemon (right):\n${JSON.stringify(diff, null, 2)}`,
      );
      assert.ok(local.values.size > 0);
    });
  }
});
