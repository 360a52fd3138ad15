// jobmeterViews(profile) takes each profile's buckets and attribute allow-lists from its module
// (naming/profiles/ profileSettings): under a legacy profile an instrument keeps only the attributes
// its rules label. The exact series the profile serves are the same as with the catalog's full
// allow-lists: the dropped attributes are the ones the rules sum over.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MeterProvider } from '@opentelemetry/sdk-metrics';

import { SELF_INSTRUMENTS } from '../../src/domain/catalog.ts';
import { renderPrometheusText } from '../../src/exposition/text.ts';
import { createRecorder } from '../../src/host-recorder.ts';
import { JobmeterReader } from '../../src/jobmeter-reader.ts';
import {
  buildViews,
  jobmeterViews,
  profileCatalog,
  withProfileBuckets,
} from '../../src/jobmeter-views.ts';
import { PROFILE_NAMES, profileSettings } from '../../src/naming/profiles/index.ts';
import type { ProfileName } from '../../src/options.ts';

test("rm: jobmeter.run.duration's View keeps kind and outcome, the attributes rm's rule labels", () => {
  const view = jobmeterViews('rm').find((v) => v.instrumentName === 'jobmeter.run.duration')!;
  const [processor] = view.attributesProcessors!;
  const attributes = { task: 'nightly', kind: 'backup', runner: 'local', outcome: 'success' };
  assert.deepEqual(processor!.process(attributes, undefined as never), {
    kind: 'backup',
    outcome: 'success',
  });
  // The native profile serves every attribute: the catalog's allow-list.
  const native = jobmeterViews('otel').find((v) => v.instrumentName === 'jobmeter.run.duration')!;
  assert.deepEqual(
    native.attributesProcessors![0]!.process(attributes, undefined as never),
    attributes,
  );
});

/** What a host's provider read by a JobmeterReader under `profile` serves after the same records, with `views`. */
async function served(
  profile: ProfileName,
  views: ReturnType<typeof jobmeterViews>,
): Promise<string> {
  const reader = new JobmeterReader({ profile, listener: false });
  const provider = new MeterProvider({ views, readers: [reader] });
  try {
    const jm = createRecorder(provider.getMeter('jobmeter'), {
      profile,
      build: { version: '1.2.3', commit: 'abc' },
    });
    const kinds =
      profile === 'rm'
        ? ['backup', 'prune']
        : profile === 'runwisp'
          ? ['task', 'service']
          : ['build', 'deploy'];
    const runners = profile === 'solti' ? ['wasm', 'subprocess'] : ['local', 'remote'];
    let i = 0;
    for (const task of ['a', 'b', 'c']) {
      for (const kind of kinds) {
        for (const runner of runners) {
          for (const outcome of ['success', 'failure', 'cancelled', 'timeout'] as const) {
            jm.recordRun({
              task,
              kind,
              runner,
              outcome,
              durationSeconds: 0.05 * ++i,
              outputTruncated: i % 3 === 0,
            });
          }
        }
      }
    }
    jm.startRun({ task: 'a', kind: kinds[0], runner: runners[0] });
    jm.reject('concurrency');
    jm.runnerError(runners[0]!, 'module_load_failed');
    // The last failure's time is the clock's when each provider recorded it: the one value that differs.
    return renderPrometheusText(await reader.scrape()).replace(
      /^(\S*last_failure\S*) \S+$/gm,
      '$1 <time>',
    );
  } finally {
    await provider.shutdown();
  }
}

for (const profile of PROFILE_NAMES) {
  test(`${profile}: the profile's allow-lists serve exactly what the catalog's full ones do`, async () => {
    // Each profile's own catalog (semconv's: the conventions' instruments in place of the ones they name).
    const own = profileCatalog(profile);
    const specs = [...own.domain, ...SELF_INSTRUMENTS, ...own.process];
    const full = buildViews(withProfileBuckets(specs, profileSettings(profile).buckets));
    const narrowed = await served(profile, jobmeterViews(profile));
    assert.equal(narrowed, await served(profile, full));
    assert.match(narrowed, /\d/);
  });
}
