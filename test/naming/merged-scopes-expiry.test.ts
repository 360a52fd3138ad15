/**
 * The native profile without scope labels (`otelScopeInfo: false`) serves one instrument of several
 * scopes under one label set, their series summed. Each scope's ingested series expires when its
 * sender falls silent, and comes back when it pushes again: what a Prometheus user reads must be
 * one counter (and one histogram, `_count`, `_sum` and every `le`) that never goes back while no
 * sender reset, and counts every increment once: an expired sender's part stays served while the
 * label set is, one that comes back going on adds only what it counted since, one that restarted
 * adds its new total whole.
 *
 * The oracle is the model (test/model/model.ts), a scope's sender standing for one of its sources
 * (what it sees as a sender resource: the sources it merges into one served series), and the
 * invariant that no served counter decreases from one scrape to the next.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { resolveProfile } from '../../src/naming/profiles/index.ts';
import { createNamer } from '../../src/naming/to-families.ts';
import { SourceTotals } from '../../src/series/carry.ts';
import {
  exponential,
  exponentialPoint,
  fakeClock,
  metric,
  numberPoint,
  request,
  scrapedFamilies,
  sum,
} from '../ingest/helpers.ts';
import {
  applyPush,
  cumulativePoints,
  expireSource,
  INSTRUMENTS,
  observedBuckets,
  served,
  sourceKey,
  type Buckets,
  type ModelState,
} from '../model/model.ts';
import { modelScrapes } from '../model/system.ts';
import { postMetric } from '../support/otlp-json.ts';

const EXPIRY_MS = 1_000;
const COUNTER = INSTRUMENTS.find((i) => i.kind === 'counter')!;
const HISTOGRAM = INSTRUMENTS.find((i) => i.kind === 'histogram')!;
const BOUNDS = [1, 5];
const SCOPES = ['scope-a', 'scope-b'] as const;
type Scope = (typeof SCOPES)[number];

/** What one scope's sender has counted since it started: its counter's total and its observations. */
interface Sent {
  total: number;
  observed: number[];
  /** When it started, Unix ms. */
  start: number;
}

/** `observed` in the served layout, as the model holds a histogram's counts. */
const buckets = (observed: readonly number[]): Buckets => observedBuckets(observed, BOUNDS);

const ATTRIBUTES = [{ key: 'k', value: { stringValue: 'a' } }];
const nanos = (ms: number): string => (BigInt(ms) * 1_000_000n).toString();

/** `sent` as the scope's SDK exports it: a cumulative point of each instrument, with `k="a"`. */
async function push(jm: Jobmeter, scope: Scope, sent: Sent): Promise<void> {
  const port = jm.ingestAddress!.port;
  const common = {
    attributes: ATTRIBUTES,
    startTimeUnixNano: nanos(sent.start),
    timeUnixNano: nanos(Date.now()),
  };
  const b = buckets(sent.observed);
  const answers = [
    await postMetric(
      port,
      {
        name: COUNTER.name,
        sum: {
          aggregationTemporality: 2,
          isMonotonic: true,
          dataPoints: [{ ...common, asDouble: sent.total }],
        },
      },
      scope,
    ),
    await postMetric(
      port,
      {
        name: HISTOGRAM.name,
        histogram: {
          aggregationTemporality: 2,
          dataPoints: [
            {
              ...common,
              count: String(sent.observed.length),
              sum: b.sum,
              bucketCounts: b.counts.map(String),
              explicitBounds: BOUNDS,
            },
          ],
        },
      },
      scope,
    ),
  ];
  for (const answer of answers) assert.doesNotMatch(answer, /rejected/i, 'every point taken');
}

/** A serve merging two scopes' senders, each step of theirs applied to the model as well. */
async function mergingScopes(): Promise<{
  send: (...scopes: Scope[]) => Promise<void>;
  count: (scope: Scope, n: number, values: readonly number[]) => void;
  restart: (scope: Scope) => void;
  silent: (gone: Scope, kept: Scope) => Promise<void>;
  step: (what: string) => Promise<void>;
  shutdown: () => Promise<void>;
}> {
  const jm = await createJobmeter({
    profile: 'otel',
    otelScopeInfo: false,
    listener: { port: 0 },
    ingest: { port: 0, expiryMillis: EXPIRY_MS },
    log: () => {},
  });
  const url = `http://127.0.0.1:${jm.pullAddress!.port}/metrics`;
  const model: ModelState = new Map();
  let order = 0;
  const started = Date.now() - 60_000;
  const senders: Record<Scope, Sent> = {
    'scope-a': { total: 0, observed: [], start: started },
    'scope-b': { total: 0, observed: [], start: started },
  };
  /** Each of `scopes`' senders exports what it counted so far, and the model takes it. */
  const send = async (...scopes: Scope[]): Promise<void> => {
    for (const scope of scopes) {
      const s = senders[scope];
      await push(jm, scope, s);
      applyPush(model, scope, cumulativePoints('a', s.total, buckets(s.observed)), ++order);
    }
  };
  /** `scope`'s sender counts `n` more, observing `values`. */
  const count = (scope: Scope, n: number, values: readonly number[]): void => {
    senders[scope].total += n;
    senders[scope].observed.push(...values);
  };
  /** `scope`'s sender restarted: it counts from nothing, from now. */
  const restart = (scope: Scope): void => {
    senders[scope] = { total: 0, observed: [], start: Date.now() };
  };
  /** `gone`'s sender stays silent past the expiry while `kept`'s goes on, keeping the served series. */
  const silent = async (gone: Scope, kept: Scope): Promise<void> => {
    await sleep(EXPIRY_MS * 0.6);
    count(kept, 1, [3]);
    await send(kept);
    await sleep(EXPIRY_MS * 0.6);
    for (const instrument of [COUNTER, HISTOGRAM])
      expireSource(model, sourceKey(gone, instrument.name, 'a'));
  };
  const step = modelScrapes(url, () => served(model));
  return { send, count, restart, silent, step, shutdown: () => jm.shutdown() };
}

describe('a native counter and histogram merging scopes (no scope labels) across their expiry', () => {
  it('never goes back while no sender reset, and serves what each sender counted, once', async () => {
    const { send, count, restart, silent, step, shutdown } = await mergingScopes();
    try {
      count('scope-a', 5, [0.5, 2, 2, 8]);
      count('scope-b', 2, [0.25, 4]);
      await send(...SCOPES);
      await step('both senders');

      await silent('scope-a', 'scope-b');
      await step("a's sender expired");

      count('scope-a', 4, [0.5, 6]);
      count('scope-b', 1, [2]);
      await send(...SCOPES);
      await step("a's sender back, going on");

      await silent('scope-a', 'scope-b');
      await step("a's sender expired again");

      restart('scope-a');
      count('scope-a', 2, [4, 0.5]);
      await send(...SCOPES);
      await step("a's sender back, restarted while gone");

      restart('scope-a');
      count('scope-a', 1, [1]);
      await send('scope-a');
      await step("a's sender restarted while served");
    } finally {
      await shutdown();
    }
  });

  it('holds a scope served alone, then joined by another, as the model does', async () => {
    // Served alone, a scope's series merge nothing yet: carried all the same, since another
    // scope's series of the same label set may come as one of its leaves, between two scrapes.
    const { send, count, restart, silent, step, shutdown } = await mergingScopes();
    try {
      count('scope-a', 5, [0.5, 2, 2, 8]);
      await send('scope-a');
      await step('a alone');

      restart('scope-a');
      count('scope-a', 2, [4]);
      await send('scope-a');
      await step('a alone, restarted');

      count('scope-b', 2, [0.25, 4]);
      await send(...SCOPES);
      await step('b joins');

      await silent('scope-a', 'scope-b');
      await step("a's sender expired, b's keeping the series");

      count('scope-a', 1, [6]);
      await send(...SCOPES);
      await step("a's sender back, going on");

      await silent('scope-b', 'scope-a');
      await step("b's sender expired, a's keeping the series");

      count('scope-a', 3, [0.5, 1, 9]);
      await send('scope-a');
      await step('a alone again');
    } finally {
      await shutdown();
    }
  });
});

describe('the carry of a native profile', () => {
  for (const scopeInfo of [true, false])
    it(`is ${scopeInfo ? 'not made with scope labels (no series merge)' : 'made without scope labels'}`, async () => {
      const store = new IngestStore({ expiryMillis: EXPIRY_MS });
      const sources = new SourceTotals();
      const namer = createNamer(resolveProfile('otel', scopeInfo), { sources });
      for (const scope of SCOPES) {
        const points = sum([numberPoint(1, { k: 'a' }, 1, 2)]);
        store.ingest(request([metric(COUNTER.name, points)], undefined, scope));
      }
      const family = (await scrapedFamilies(store, namer)).find((f) => f.name === COUNTER.served);
      assert.equal(family?.series.length, scopeInfo ? 2 : 1, 'the scopes merge without labels');
      assert.equal(sources.snapshot().rules.length, scopeInfo ? 0 : SCOPES.length);
    });

  it('is not made for an exponential histogram, which keeps its native buckets', async () => {
    const store = new IngestStore({ expiryMillis: EXPIRY_MS });
    const sources = new SourceTotals();
    const namer = createNamer(resolveProfile('otel', false), { sources });
    for (const scope of SCOPES) {
      const points = exponential([exponentialPoint(0, 0, [1, 2], 4, { k: 'a' }, 1, 2)]);
      store.ingest(request([metric('daemon.spread', points)], undefined, scope));
    }
    const family = (await scrapedFamilies(store, namer)).find((f) => f.name === 'daemon_spread');
    assert.ok(family?.type === 'histogram' && family.series.length === 1);
    assert.ok(family.series[0]!.native !== undefined, 'its native buckets are served');
    assert.equal(sources.snapshot().rules.length, 0);
  });

  it('forgets a rule once every series it carried has left', async () => {
    const clock = fakeClock();
    const store = new IngestStore({ expiryMillis: EXPIRY_MS, clock });
    const sources = new SourceTotals();
    const namer = createNamer(resolveProfile('otel', false), { sources });
    for (const scope of SCOPES) {
      const points = sum([numberPoint(1, { k: 'a' }, 1, 2)]);
      store.ingest(request([metric(COUNTER.name, points)], undefined, scope));
    }
    await scrapedFamilies(store, namer);
    assert.equal(sources.snapshot().rules.length, SCOPES.length);
    clock.advance(EXPIRY_MS + 1);
    const family = (await scrapedFamilies(store, namer)).find((f) => f.name === COUNTER.served);
    assert.equal(family, undefined, 'every series expired');
    assert.equal(sources.snapshot().rules.length, 0);
  });

  it("leaves out jobmeter's own refused points: they never leave, and count from each start", async () => {
    const store = new IngestStore({ expiryMillis: EXPIRY_MS });
    const sources = new SourceTotals();
    const namer = createNamer(resolveProfile('otel', false), { sources });
    const refused = store.ingest(request([metric(COUNTER.name, sum([numberPoint(-1, {})]))]));
    assert.equal(refused.rejectedDataPoints, 1);
    const family = (await scrapedFamilies(store, namer)).find(
      (f) => f.name === 'jobmeter_ingest_refused_total',
    );
    assert.ok(family !== undefined, 'served');
    assert.deepEqual(sources.snapshot().rules, [], 'nothing carried, nothing in the checkpoint');
  });
});
