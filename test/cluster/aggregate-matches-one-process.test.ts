// The cluster aggregate against one process doing the same: random scripts of records on declared
// instruments (jm.counter, histogram, gauge) and host ones (jm.meter's counters, an integer one,
// up-down counters, histograms with advice buckets, gauges, observable counters and gauges), with
// attribute values of every type, sets that share values, and values negative, NaN, infinite and
// large, each record applied by one of the processes of a real cluster (two worker threads with
// `cluster.reportTo`, or two node:cluster workers reporting over the cluster's JSON channel, and
// the primary itself) while members exit and start again; then the primary's scrape and its OTLP
// push are what one jobmeter serves and pushes that recorded the whole script. The documented
// differences (docs/host-apps.md "node:cluster") are applied to that one process's script: an
// up-down counter counts only the records of processes still live, and a gauge is the sum of the
// last value each live process set (a series no live process holds is absent); counters,
// histograms and observable counters keep what exited processes counted.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import { renderPrometheusText } from '../../src/index-exposition.ts';
import { attributeSetKey } from '../../src/series/attribute-key.ts';
import {
  startOtlpReceiver,
  type DecodedExport,
  type OtlpReceiver,
} from '../support/otlp-receiver.ts';
import { next, OPTIONS, ScriptRecorder, type Rec } from './fixtures/script-instruments.ts';

const MEMBER = new URL('./fixtures/script-member.ts', import.meta.url);

/** One process of the script: what the oracle needs of it. */
interface Process {
  live: boolean;
  /** Gauges' last valid values, by instrument and attribute key. */
  readonly levels: Map<string, Rec>;
  /** Up-down counter records: the oracle's only while the process lives. */
  readonly moves: Rec[];
  /** Observable counters' totals. */
  readonly totals: Map<string, Rec>;
}

const newProcess = (): Process => ({ live: true, levels: new Map(), moves: [], totals: new Map() });

/** A real cluster the script plays on: two members (0, 1) and the primary (2). */
interface Cluster {
  apply(who: 0 | 1 | 2, rec: Rec): Promise<void>;
  /** Member `who` shuts its jobmeter down (its last report) and exits; a new one takes its place. */
  restart(who: 0 | 1): Promise<void>;
  /** The primary's scrape, as text. */
  scrape(): Promise<string>;
  /** The primary's push, now. */
  push(): Promise<DecodedExport>;
  stop(): Promise<void>;
}

let cluster: Cluster;
/** The processes the script's records go to now: the members', then the primary's. */
let models: [Process, Process, Process];
let oracle: Jobmeter;
let oracleRecorder: ScriptRecorder;
/** Where the primary and the one process push. */
let pushed: { primary: OtlpReceiver; oracle: OtlpReceiver };

/** Worker threads with `cluster.reportTo`, aggregated by a primary in this process. */
async function threads(otlp: object): Promise<Cluster> {
  const primary = await createJobmeter({ ...OPTIONS, otlp, cluster: { timeoutMillis: 20_000 } });
  const self = new ScriptRecorder(primary);
  const start = async (): Promise<Worker> => {
    const worker = new Worker(MEMBER);
    primary.aggregate(worker);
    await next(worker, 'started');
    return worker;
  };
  const workers = [await start(), await start()];
  return {
    async apply(who, rec) {
      if (who === 2) self.apply(rec);
      else {
        workers[who]!.postMessage({ recs: [rec] });
        await next(workers[who]!, 'applied');
      }
    },
    async restart(who) {
      workers[who]!.postMessage({ stop: true });
      await next(workers[who]!, 'stopped');
      await workers[who]!.terminate();
      workers[who] = await start();
    },
    scrape: async () => renderPrometheusText(await primary.scrape()),
    async push() {
      await primary.forceFlush();
      return pushed.primary.requests.at(-1)!;
    },
    async stop() {
      for (const w of workers) await w.terminate();
      await primary.shutdown();
    },
  };
}

/** A node:cluster primary process and its two workers (fixtures/script-cluster.ts), driven over its channel. */
async function nodeCluster(temporality: string): Promise<Cluster> {
  const child = fork(fileURLToPath(new URL('./fixtures/script-cluster.ts', import.meta.url)), {
    env: { ...process.env, OTLP_URL: pushed.primary.url, TEMPORALITY: temporality },
  });
  await next(child, 'ready');
  let id = 0;
  const ask = async (what: object): Promise<Record<string, unknown>> => {
    const at = ++id;
    child.send({ ...what, id: at });
    for (;;) {
      const answer = await next(child, 'id');
      if (answer['id'] === at) return answer;
    }
  };
  return {
    async apply(who, rec) {
      await ask({ apply: { who, rec: { ...rec, value: String(rec.value) } } });
    },
    async restart(who) {
      await ask({ restart: who });
    },
    scrape: async () => (await ask({ scrape: true }))['body'] as string,
    async push() {
      await ask({ flush: true });
      return pushed.primary.requests.at(-1)!;
    },
    async stop() {
      child.kill();
      await once(child, 'exit');
    },
  };
}

/** The cluster `make` gives, pushing in `temporality`, and the one process, pushing alike. */
async function startCluster(
  temporality: 'cumulative' | 'delta',
  make: (otlp: object) => Promise<Cluster>,
): Promise<void> {
  pushed = { primary: await startOtlpReceiver(), oracle: await startOtlpReceiver() };
  const otlp = (receiver: OtlpReceiver) => ({
    endpoint: receiver.url,
    intervalMillis: 600_000,
    temporality,
  });
  cluster = await make(otlp(pushed.primary));
  models = [newProcess(), newProcess(), newProcess()];
  oracle = await createJobmeter({ ...OPTIONS, otlp: otlp(pushed.oracle), cluster: false });
  oracleRecorder = new ScriptRecorder(oracle);
}

async function stopCluster(): Promise<void> {
  await cluster.stop();
  await oracle.shutdown();
  await pushed.primary.close();
  await pushed.oracle.close();
}

type Step = { who: 0 | 1 | 2; rec: Omit<Rec, 'scope'> } | { who: 0 | 1; restart: true };

const attributeValue = fc.oneof(
  fc.constantFrom('', 'x', 'y', '1'),
  fc.integer({ min: -1, max: 2 }),
  fc.constantFrom(0.5, true, false),
  fc.constantFrom(['x'], [1, 2], [] as string[], [true]),
);
const hostAttributes = fc.dictionary(fc.constantFrom('a', 'b'), attributeValue, { maxKeys: 2 });
const value = fc.oneof(
  fc.integer({ min: -3, max: 12 }),
  fc.constantFrom(0.25, -0.5, 2.75, 1e15, 2 ** 53, 1e300, 1e308, NaN, Infinity, -Infinity),
);
const rec: fc.Arbitrary<Omit<Rec, 'scope'>> = fc.oneof(
  fc.record({
    i: fc.constantFrom('c', 'ci', 'u', 'h', 'e', 'g' as const),
    attributes: hostAttributes,
    value,
  }),
  fc.record({
    i: fc.constantFrom('oc', 'og' as const),
    attributes: hostAttributes,
    value: fc.integer({ min: 0, max: 9 }),
  }),
  fc.record({
    i: fc.constantFrom('app.done', 'app.wait', 'app.depth' as const),
    attributes: fc.record({ k: fc.constantFrom('', 'x', 'y') }),
    value,
  }),
);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ who: fc.constantFrom(0, 1, 2 as const), rec }) },
  {
    weight: 1,
    arbitrary: fc.record({
      who: fc.constantFrom(0, 1 as const),
      restart: fc.constant(true as const),
    }),
  },
);

/** Whether a series is script `run`'s (its scope, its `run` label) or counts the records refused. */
const ofRun = (run: number, scope: string, name: string, run_: unknown): boolean =>
  scope === `s${run}` ||
  run_ === String(run) ||
  name.startsWith('jobmeter_records_dropped') ||
  name === 'jobmeter.records.dropped';

/**
 * A scrape's samples of script `run` and the records refused: `name{labels}` -> value. An earlier
 * script's levels left with the processes that exited since.
 */
function samples(body: string, run: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (line.startsWith('#')) continue;
    const scope = /otel_scope_name="([^"]*)"/.exec(line)?.[1] ?? '';
    const runLabel = /[{,]run="([^"]*)"/.exec(line)?.[1];
    if (!ofRun(run, scope, line.slice(0, line.indexOf('{')), runLabel)) continue;
    const at = line.lastIndexOf(' ');
    const text = line.slice(at + 1);
    out.set(
      line.slice(0, at),
      text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text),
    );
  }
  return out;
}

/**
 * An export's figures of script `run` and the records refused: `scope name {attributes} figure` ->
 * value. Two documented differences (docs/host-apps.md "node:cluster") are left out: an
 * exponential histogram's min and max, which the aggregate does not keep, and, in delta, the
 * exponential histograms, which its delta push leaves out, and a sum's point that adds 0, which
 * the aggregate exports only when the total moved (series/temporality.ts).
 */
function figures(request: DecodedExport, run: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of request.metrics)
    for (const p of m.points) {
      if (!ofRun(run, m.scope, m.name, p.attributes['run'])) continue;
      const exponential = m.kind === 'exponentialHistogram';
      if (m.temporality === 'delta' && (exponential || (m.kind === 'sum' && p.value === 0)))
        continue;
      const at = `${m.scope} ${m.name} ${m.kind} ${m.temporality} ${JSON.stringify(Object.entries(p.attributes).sort())}`;
      const { value, count, sum, min, max, bucketCounts, explicitBounds } = p;
      const extremes = exponential ? {} : { min, max };
      for (const [figure, v] of Object.entries({ value, count, sum, ...extremes }))
        if (v !== undefined) out.set(`${at} ${figure}`, v);
      bucketCounts?.forEach((n, i) => out.set(`${at} le=${explicitBounds?.[i] ?? '+Inf'}`, n));
    }
  return out;
}

/** Where `got` and `want` differ, beyond rounding. */
function differences(got: Map<string, number>, want: Map<string, number>): string[] {
  const diff: string[] = [];
  for (const [series, v] of want)
    if (!got.has(series) || !close(got.get(series)!, v))
      diff.push(`${series}: served ${got.get(series)}, one process ${v}`);
  for (const [series, v] of got)
    if (!want.has(series)) diff.push(`${series}: served ${v}, one process none`);
  return diff;
}

/** Equal but for rounding (the same figures added in another order); an infinity only to itself. */
const close = (a: number, b: number): boolean =>
  Object.is(a, b) || (Number.isFinite(b) && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)));

let run = 0;

async function play(steps: readonly Step[]): Promise<void> {
  const scope = `s${++run}`;
  const processes: Process[] = [...models];
  for (const s of steps) {
    if ('restart' in s) {
      await cluster.restart(s.who);
      models[s.who].live = false;
      processes.push((models[s.who] = newProcess()));
      continue;
    }
    const p = models[s.who];
    let r: Rec = { ...s.rec, scope };
    if (r.i === 'app.done' || r.i === 'app.wait' || r.i === 'app.depth')
      r = { ...r, attributes: { ...r.attributes, run: String(run) } };
    const key = `${r.i} ${attributeSetKey(r.attributes)}`;
    if (r.i === 'oc') {
      r = { ...r, value: (p.totals.get(key)?.value ?? 0) + r.value };
      p.totals.set(key, r);
    }
    if (r.i === 'u') p.moves.push(r);
    else if (r.i === 'g' || r.i === 'app.depth' || r.i === 'og') {
      if (Number.isFinite(r.value)) p.levels.set(key, r);
      // Refused, and counted, in any process.
      else oracleRecorder.apply(r);
    } else if (r.i !== 'oc') oracleRecorder.apply(r);
    await cluster.apply(s.who, r);
  }
  // The documented differences, applied to the one process's script.
  const sums = new Map<string, Rec>();
  const add = (key: string, r: Rec): void => {
    sums.set(key, { ...r, value: (sums.get(key)?.value ?? 0) + r.value });
  };
  for (const p of processes) {
    for (const r of p.moves) if (p.live || !Number.isFinite(r.value)) oracleRecorder.apply(r);
    for (const [key, r] of p.totals) add(key, r);
    if (p.live) for (const [key, r] of p.levels) add(key, r);
    p.moves.length = 0;
    p.totals.clear();
    p.levels.clear();
  }
  for (const r of sums.values())
    if (r.i === 'oc' || r.i === 'og') oracleRecorder.observe(scope, r.i, r.attributes, r.value);
    else oracleRecorder.apply(r);
  const scraped = samples(await cluster.scrape(), run);
  const scrapedOnce = samples(renderPrometheusText(await oracle.scrape()), run);
  assert.deepEqual(differences(scraped, scrapedOnce), [], `scrape: ${JSON.stringify(steps)}`);
  const push = figures(await cluster.push(), run);
  await oracle.forceFlush();
  const pushOnce = figures(pushed.oracle.requests.at(-1)!, run);
  assert.deepEqual(differences(push, pushOnce), [], `push: ${JSON.stringify(steps)}`);
}

const CASES = [
  { temporality: 'cumulative', members: 'worker threads', make: threads, runs: 25 },
  { temporality: 'delta', members: 'worker threads', make: threads, runs: 25 },
  {
    temporality: 'cumulative',
    members: 'node:cluster workers',
    make: (otlp: object) => nodeCluster((otlp as { temporality: string }).temporality),
    runs: 8,
  },
] as const;

for (const { temporality, members, make, runs } of CASES)
  test(`the primary of ${members} serves and pushes (${temporality}) what one process recording every member’s records does, the documented merges applied`, async () => {
    await startCluster(temporality, make);
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), async (steps) => {
          await play(steps);
        }),
        {
          numRuns: Number(process.env['RUNS'] ?? runs),
          examples: [
            // A member's total past the largest double: +Inf, as one process's.
            [
              [
                { who: 0, rec: { i: 'c', attributes: {}, value: 1e308 } },
                { who: 0, rec: { i: 'c', attributes: {}, value: 1e308 } },
                { who: 1, rec: { i: 'h', attributes: {}, value: 1e308 } },
                { who: 1, rec: { i: 'h', attributes: {}, value: 1e308 } },
              ],
            ],
            // Exponential histograms of two members and the primary's own, at other scales.
            [
              [
                { who: 0, rec: { i: 'e', attributes: {}, value: 0.25 } },
                { who: 1, rec: { i: 'e', attributes: {}, value: 1000 } },
                { who: 2, rec: { i: 'e', attributes: {}, value: 3 } },
                { who: 2, rec: { i: 'e', attributes: { a: 'x' }, value: 0 } },
              ],
            ],
          ],
        },
      );
    } finally {
      await stopCluster();
    }
  });
