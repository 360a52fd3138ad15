// Declared instruments carry their names and attribute keys into the types: written literally (or
// `as const`), a name not declared, one declared as another kind, or an attribute key the
// declaration does not list is a compile error (each `@ts-expect-error` below fails `tsc`, which
// `npm test` runs over test/, when it is not one); declarations typed `DeclaredInstrumentSpec`
// keep the untyped path. Run, the same calls do what the types say: an undeclared name throws, an
// undeclared attribute key is not served.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MeterProvider } from '@opentelemetry/sdk-metrics';

import { renderPrometheusText } from '../../src/exposition/text.ts';
import {
  createJobmeter,
  createRecorder,
  JobmeterReader,
  type DeclaredInstrumentSpec,
  type Jobmeter,
  type Recorder,
} from '../../src/index.ts';

const NOT_DECLARED = /no .* instrument of that name declared/;

test('createJobmeter: only declared names and attribute keys compile; run, an undeclared name throws and an undeclared key is not served', async () => {
  const jm = await createJobmeter({
    listener: false,
    processMetrics: false,
    global: false,
    instruments: [
      {
        name: 'app.emails.sent',
        kind: 'counter',
        unit: '{email}',
        description: 'Emails sent.',
        attributes: [{ key: 'queue', cap: 20 }],
      },
      {
        name: 'app.send.duration',
        kind: 'histogram',
        unit: 's',
        description: 'Send time.',
        buckets: [0.1, 1],
        attributes: [{ key: 'queue', cap: 20 }],
      },
      { name: 'app.queue.depth', kind: 'gauge', unit: '{job}', description: 'Jobs waiting.' },
      {
        name: 'app.jobs.stored',
        kind: 'observableGauge',
        unit: '{job}',
        description: 'Jobs stored.',
        attributes: [{ key: 'state', values: ['queued', 'running'] }],
      },
    ],
  });
  try {
    jm.counter('app.emails.sent').add(2, { queue: 'emails' });
    jm.counter('app.emails.sent').bind({ queue: 'emails' }).add(1);
    jm.histogram('app.send.duration').record(0.5, { queue: 'emails' });
    jm.gauge('app.queue.depth').record(7);
    jm.observe('app.jobs.stored', () => [{ value: 3, attributes: { state: 'queued' } }]);

    // @ts-expect-error a name not declared (a typo)
    assert.throws(() => jm.counter('app.emails.snet'), NOT_DECLARED);
    // @ts-expect-error declared, as a gauge
    assert.throws(() => jm.counter('app.queue.depth'), NOT_DECLARED);
    // @ts-expect-error declared, as a counter
    assert.throws(() => jm.histogram('app.emails.sent'), NOT_DECLARED);
    // @ts-expect-error declared, as an observable
    assert.throws(() => jm.gauge('app.jobs.stored'), NOT_DECLARED);
    // @ts-expect-error a name not declared
    assert.throws(() => jm.observe('app.jobs.stord', () => 1), /no such instrument declared/);
    // @ts-expect-error an attribute key its declaration does not list
    jm.counter('app.emails.sent').add(1, { queue: 'emails', tenant: 'acme' });
    // @ts-expect-error an attribute key its declaration does not list
    jm.histogram('app.send.duration').bind({ tenant: 'acme' });
    // @ts-expect-error a gauge declared without attributes takes none
    jm.gauge('app.queue.depth').record(8, { queue: 'emails' });
    assert.throws(
      // @ts-expect-error an attribute key its declaration does not list (run, refused as a second callback)
      () => jm.observe('app.jobs.stored', () => [{ value: 1, attributes: { tenant: 'acme' } }]),
      /already registered/,
    );

    // A typed jobmeter is still a Jobmeter and a Recorder where one is asked for (the integrations').
    const recorder: Recorder = jm;
    const jobmeter: Jobmeter = jm;
    assert.equal(jobmeter, recorder);
    assert.throws(() => recorder.counter('app.emails.snet'), NOT_DECLARED);

    const text = renderPrometheusText(await jm.scrape());
    assert.match(text, /^app_emails_sent_total\{queue="emails"(,otel_scope_[^}]*)?\} 4$/m, text);
    assert.doesNotMatch(text, /tenant=/, 'an attribute key not declared is not served');
    assert.match(text, /^app_queue_depth(\{otel_scope_[^}]*\})? 8$/m);
    assert.match(text, /^app_jobs_stored\{state="queued"(,otel_scope_[^}]*)?\} 3$/m);
  } finally {
    await jm.shutdown();
  }
});

test("createRecorder on a host's provider: declarations `as const` are typed the same; ones typed DeclaredInstrumentSpec stay untyped", async () => {
  const INSTRUMENTS = [
    {
      name: 'app.emails.sent',
      kind: 'counter',
      unit: '{email}',
      description: 'Emails sent.',
      attributes: [{ key: 'queue', cap: 20 }],
    },
  ] as const satisfies readonly DeclaredInstrumentSpec[];
  const reader = new JobmeterReader({ listener: false });
  const provider = new MeterProvider({ readers: [reader] });
  try {
    const jm = createRecorder(provider.getMeter('jobmeter'), { instruments: INSTRUMENTS });
    jm.counter('app.emails.sent').add(1, { queue: 'emails' });
    // @ts-expect-error a name not declared
    assert.throws(() => jm.counter('app.emails.snet'), NOT_DECLARED);
    // @ts-expect-error an attribute key its declaration does not list
    jm.counter('app.emails.sent').add(1, { queue: 'emails', tenant: 'acme' });

    // Built at run time: any name and key compile, and an undeclared name throws when called.
    const untyped: readonly DeclaredInstrumentSpec[] = INSTRUMENTS;
    const same = createRecorder(provider.getMeter('jobmeter'), { instruments: untyped });
    assert.equal(same, jm);
    assert.throws(() => same.counter('app.emails.snet'), NOT_DECLARED);
    same.counter('app.emails.sent').add(1, { queue: 'emails', tenant: 'acme' });

    const text = renderPrometheusText(await reader.scrape());
    assert.match(text, /^app_emails_sent_total\{queue="emails"(,otel_scope_[^}]*)?\} 3$/m, text);
    assert.doesNotMatch(text, /tenant=/);
  } finally {
    await provider.shutdown();
  }
});
