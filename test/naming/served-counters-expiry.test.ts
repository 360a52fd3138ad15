/**
 * A legacy profile's counter (or histogram) series merges ingested series (several senders' attribute sets under
 * one label set, or a zero-filled word served while no sender has it). Ingested series expire and
 * come back; the served counter must neither go back nor count a sender's total twice:
 *
 * - a source that expires keeps what it counted in the served total while the label set is served
 *   (by other sources or a zero-fill word): no decrease, so no reset read by Prometheus;
 * - a source that comes back going on from where it was (a cumulative sender that kept running)
 *   adds only what it counted since; one that restarted while gone (its total below its last)
 *   adds its new total whole — the rule every carry of the store follows (series/carry.ts);
 * - across a restart of jobmeter, a series its state file holds dormant (its sender silent past
 *   the expiry by the start, so not served) keeps what its sender counted in its label set, the
 *   file's points no scrape read included, whether it wakes or goes unwoken.
 *
 * The oracle is what the senders counted, not our reading of the code.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { renderOpenMetrics } from '../../src/exposition/openmetrics.ts';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import { freePort } from '../support/free-port.ts';
import { postMetric } from '../support/otlp-json.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { StateKeeper } from '../../src/ingest/state-keeper.ts';
import { mergesScopes } from '../../src/naming/native-rules.ts';
import { resolveProfile } from '../../src/naming/profiles/index.ts';
import { createNamer } from '../../src/naming/to-families.ts';
import type { ProfileName } from '../../src/common/option-values.ts';
import {
  instrumentKey,
  MAX_GONE_SOURCES,
  ServedTotals,
  SourceTotals,
} from '../../src/series/carry.ts';
import {
  EPOCH_SECONDS,
  fakeClock,
  histogram,
  histogramPoint,
  metric,
  numberPoint,
  request,
  scrapedFamilies,
  sum,
} from '../ingest/helpers.ts';

const EXPIRY = 60_000;

/** A sender's cumulative point: its value, start and time in seconds after {@link EPOCH_SECONDS}. */
type Point = readonly [value: number, start: number, time: number];

interface Source {
  readonly instrument: string;
  readonly attributes: Record<string, string>;
  /** Sends histograms (value: the count, all in the first bucket) rather than sums. */
  readonly histogram?: true;
  /** Sends delta points: each value the count of its window, from start to time. */
  readonly delta?: true;
}

interface Case {
  readonly profile: ProfileName;
  /** The served series read, e.g. `runwisp_runs_total{status="failed"}`. */
  readonly series: RegExp;
  /** A histogram's first bucket, which must read as its count (every observation is in it). */
  readonly bucket?: RegExp;
  readonly sources: readonly Source[];
  /** Per step: the point each source sends (undefined: silent), then the time of the scrape. */
  readonly steps: readonly { sends: readonly (Point | undefined)[]; scrapeAt: number }[];
  /** What the served series must read after each step: what the senders counted in all. */
  readonly served: readonly (number | undefined)[];
}

const FAILURE = { instrument: 'jobmeter.run.history', attributes: { outcome: 'failure' } };
const TIMEOUT = { instrument: 'jobmeter.run.history', attributes: { outcome: 'timeout' } };
const TASK_A = {
  instrument: 'jobmeter.run.started',
  attributes: { task: 'a', kind: 'task', runner: 'wasm' },
};
const TASK_B = {
  instrument: 'jobmeter.run.started',
  attributes: { task: 'b', kind: 'task', runner: 'wasm' },
};
const DURATION_A = { ...TASK_A, instrument: 'jobmeter.run.duration', histogram: true } as const;
const DURATION_B = { ...TASK_B, instrument: 'jobmeter.run.duration', histogram: true } as const;
const DURATION_SERIES = /^solti_runner_task_duration_seconds_count\{runner="wasm"\} (\S+)$/m;
const DURATION_BUCKET =
  /^solti_runner_task_duration_seconds_bucket\{runner="wasm",le="0\.01"\} (\S+)$/m;

const TASK_A_DELTA = { ...TASK_A, delta: true } as const;
const EXEC_COUNT = /^wasmrun_agent_exec_duration_ms_count (\S+)$/m;
const EXEC_SUM = /^wasmrun_agent_exec_duration_ms_sum (\S+)$/m;

/**
 * Two senders merged; a's restarts while served (what it counted before stays in its series),
 * then it expires while b keeps the series, and comes back going on from its own last report.
 */
const RESTARTED_THEN_EXPIRED: Case['steps'] = [
  {
    sends: [
      [5, 1, 10],
      [2, 1, 10],
    ],
    scrapeAt: 12,
  },
  {
    sends: [
      [3, 15, 20],
      [2, 1, 20],
    ],
    scrapeAt: 22,
  },
  { sends: [undefined, [3, 1, 85]], scrapeAt: 87 },
  {
    sends: [
      [4, 15, 90],
      [3, 1, 90],
    ],
    scrapeAt: 92,
  },
];

// Each source's points go 10 s apart; 100 s of silence is past the 60 s expiry.
const CASES: Record<string, Case> = {
  'a zero-filled counter whose one sender expires and goes on: its total, not twice': {
    profile: 'runwisp',
    series: /^runwisp_runs_total\{status="failed"\} (\S+)$/m,
    sources: [FAILURE],
    steps: [
      { sends: [[7, 1, 10]], scrapeAt: 12 },
      { sends: [undefined], scrapeAt: 80 },
      { sends: [[11, 1, 90]], scrapeAt: 92 },
    ],
    served: [7, 7, 11],
  },
  'a zero-filled counter whose one sender restarted while expired: both totals': {
    profile: 'runwisp',
    series: /^runwisp_runs_total\{status="failed"\} (\S+)$/m,
    sources: [FAILURE],
    steps: [
      { sends: [[7, 1, 10]], scrapeAt: 12 },
      { sends: [undefined], scrapeAt: 80 },
      { sends: [[3, 85, 90]], scrapeAt: 92 },
    ],
    served: [7, 7, 10],
  },
  'a zero-filled counter of two merged senders, one expiring and coming back': {
    profile: 'runwisp',
    series: /^runwisp_runs_total\{status="failed"\} (\S+)$/m,
    sources: [FAILURE, TIMEOUT],
    steps: [
      {
        sends: [
          [5, 1, 10],
          [2, 1, 10],
        ],
        scrapeAt: 12,
      },
      { sends: [undefined, [3, 1, 75]], scrapeAt: 77 },
      {
        sends: [
          [6, 1, 90],
          [4, 1, 90],
        ],
        scrapeAt: 92,
      },
    ],
    served: [7, 8, 10],
  },
  'a summed counter (no zero-fill) keeps an expired sender in the total while others serve it': {
    profile: 'solti',
    series: /^solti_runner_tasks_started_total\{runner="wasm"\} (\S+)$/m,
    sources: [TASK_A, TASK_B],
    steps: [
      {
        sends: [
          [5, 1, 10],
          [2, 1, 10],
        ],
        scrapeAt: 12,
      },
      { sends: [undefined, [3, 1, 75]], scrapeAt: 77 },
      { sends: [undefined, [4, 1, 80]], scrapeAt: 82 },
      {
        sends: [
          [9, 1, 90],
          [4, 1, 90],
        ],
        scrapeAt: 92,
      },
    ],
    served: [7, 8, 9, 13],
  },
  'a summed counter whose every sender expired leaves the scrape, and counts from its senders when back':
    {
      profile: 'solti',
      series: /^solti_runner_tasks_started_total\{runner="wasm"\} (\S+)$/m,
      sources: [TASK_A, TASK_B],
      steps: [
        {
          sends: [
            [5, 1, 10],
            [2, 1, 10],
          ],
          scrapeAt: 12,
        },
        { sends: [undefined, undefined], scrapeAt: 80 },
        { sends: [[9, 1, 90], undefined], scrapeAt: 92 },
      ],
      served: [7, undefined, 9],
    },
  'a merged histogram keeps an expired sender while others serve it, and counts its return once': {
    profile: 'solti',
    series: DURATION_SERIES,
    bucket: DURATION_BUCKET,
    sources: [DURATION_A, DURATION_B],
    steps: [
      {
        sends: [
          [5, 1, 10],
          [2, 1, 10],
        ],
        scrapeAt: 12,
      },
      { sends: [undefined, [3, 1, 75]], scrapeAt: 77 },
      {
        sends: [
          [9, 1, 90],
          [4, 1, 90],
        ],
        scrapeAt: 92,
      },
      {
        sends: [
          [2, 95, 100],
          [4, 1, 100],
        ],
        scrapeAt: 102,
      },
    ],
    served: [7, 8, 13, 15],
  },
  'a summed counter whose sender restarted while served, expired and came back going on: each increment once':
    {
      profile: 'solti',
      series: /^solti_runner_tasks_started_total\{runner="wasm"\} (\S+)$/m,
      sources: [TASK_A, TASK_B],
      steps: RESTARTED_THEN_EXPIRED,
      served: [7, 10, 11, 12],
    },
  'a merged histogram whose sender restarted while served, expired and came back going on': {
    profile: 'solti',
    series: DURATION_SERIES,
    bucket: DURATION_BUCKET,
    sources: [DURATION_A, DURATION_B],
    steps: RESTARTED_THEN_EXPIRED,
    served: [7, 10, 11, 12],
  },
  "a histogram's count served as a counter, its sender restarted, expired and back": {
    profile: 'wasmrun',
    series: EXEC_COUNT,
    sources: [DURATION_A, DURATION_B],
    steps: RESTARTED_THEN_EXPIRED,
    served: [7, 10, 11, 12],
  },
  // Each observation is value / 200 s, 5 ms.
  "a histogram's sum served as a scaled counter, its sender restarted, expired and back": {
    profile: 'wasmrun',
    series: EXEC_SUM,
    sources: [DURATION_A, DURATION_B],
    steps: RESTARTED_THEN_EXPIRED,
    served: [35, 50, 55, 60],
  },
  'a summed counter whose delta sender expired: its windows back count whole': {
    profile: 'solti',
    series: /^solti_runner_tasks_started_total\{runner="wasm"\} (\S+)$/m,
    sources: [TASK_A_DELTA, TASK_B],
    steps: [
      {
        sends: [
          [5, 0, 10],
          [2, 1, 10],
        ],
        scrapeAt: 12,
      },
      { sends: [undefined, [3, 1, 85]], scrapeAt: 87 },
      {
        sends: [
          [9, 85, 90],
          [3, 1, 90],
        ],
        scrapeAt: 92,
      },
    ],
    served: [7, 8, 17],
  },
};

/** `source`'s `point` ingested by `store`, accepted whole. */
function ingestPoint(store: IngestStore, source: Source, [value, start, time]: Point): void {
  const data =
    source.histogram === true
      ? histogram([histogramPoint([0.01], [value, 0], value / 200, source.attributes, start, time)])
      : sum(
          [numberPoint(value, source.attributes, start, time)],
          source.delta === true ? 'delta' : 'cumulative',
        );
  const unit = source.histogram === true ? 's' : '';
  const r = store.ingest(request([metric(source.instrument, data, unit)]));
  assert.equal(r.rejectedDataPoints, 0, r.errorMessage);
}

describe('a legacy profile counter across the expiry of the ingested series it merges', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(name, () => {
      const clock = fakeClock();
      // One carry for the store and its namer, as createJobmeter makes it (ingest-part.ts).
      const sources = new SourceTotals();
      const store = new IngestStore({ clock, expiryMillis: EXPIRY, sources });
      const namer = createNamer(resolveProfile(c.profile, false), {
        hostname: 'h',
        totals: new ServedTotals(),
        sources,
      });
      const at = (seconds: number) =>
        clock.advance(EPOCH_SECONDS * 1000 + seconds * 1000 - clock.wallMillis());
      const read = async (): Promise<number | undefined> => {
        const text = renderOpenMetrics(await scrapedFamilies(store, namer));
        const m = c.series.exec(text);
        if (c.bucket !== undefined)
          assert.equal(c.bucket.exec(text)?.[1], m?.[1], 'the bucket counts carried as the count');
        return m === null ? undefined : Number(m[1]);
      };
      return (async () => {
        const served: (number | undefined)[] = [];
        for (const step of c.steps) {
          for (const [i, point] of step.sends.entries()) {
            if (point === undefined) continue;
            at(point[2]);
            ingestPoint(store, c.sources[i]!, point);
          }
          at(step.scrapeAt);
          served.push(await read());
        }
        assert.deepEqual(served, c.served, 'served after each step: what the senders counted');
      })();
    });
  }
});

/**
 * A step of a jobmeter that restarts on its state file: the senders' points (as a {@link Case}'s),
 * or its shutdown at `down` (the file written) and its start at `up`, which holds `dormant` of the
 * file's source series dormant; then, with `scrapeAt`, a scrape.
 */
type RestartStep = { readonly scrapeAt?: number } & (
  | { readonly sends: readonly (Point | undefined)[] }
  | { readonly down: number; readonly up: number; readonly dormant: number }
);

interface RestartCase extends Omit<Case, 'steps'> {
  readonly steps: readonly RestartStep[];
}

/**
 * Task a's sender stops after its first report, b's goes on; jobmeter is down for 20 s, by when a
 * has been silent past the expiry: a's series is dormant at the start, b's served. The file is
 * written before any scrape, so the carry first hears of a from its dormant series.
 */
const DORMANT_NEVER_SEEN: RestartCase['steps'] = [
  {
    sends: [
      [5, 1, 10],
      [2, 1, 10],
    ],
  },
  { sends: [undefined, [2, 1, 50]] },
  { down: 55, up: 75, dormant: 1, scrapeAt: 76 },
  { sends: [[6, 1, 80], undefined], scrapeAt: 82 },
  { sends: [undefined, [3, 1, 85]], scrapeAt: 87 },
];

/**
 * As {@link DORMANT_NEVER_SEEN}, scraped before the shutdown; a's dormant series goes the expiry
 * after the start (135 s), and a's sender is back later.
 */
const DORMANT_NEVER_WAKES: RestartCase['steps'] = [
  {
    sends: [
      [5, 1, 10],
      [2, 1, 10],
    ],
    scrapeAt: 12,
  },
  { sends: [undefined, [2, 1, 50]] },
  { down: 55, up: 75, dormant: 1, scrapeAt: 76 },
  { sends: [undefined, [3, 1, 130]], scrapeAt: 140 },
  {
    sends: [
      [6, 1, 150],
      [3, 1, 150],
    ],
    scrapeAt: 152,
  },
];

/**
 * As {@link DORMANT_NEVER_WAKES}, but nothing is scraped before a's dormant series goes (135 s): no
 * pass named it, neither before the shutdown nor after the start, and the file's carry holds no rule.
 */
const DORMANT_GOES_UNNAMED: RestartCase['steps'] = [
  {
    sends: [
      [5, 1, 10],
      [2, 1, 10],
    ],
  },
  { sends: [undefined, [2, 1, 50]] },
  { down: 55, up: 75, dormant: 1 },
  { sends: [undefined, [3, 1, 130]], scrapeAt: 140 },
  {
    sends: [
      [6, 1, 150],
      [3, 1, 150],
    ],
    scrapeAt: 152,
  },
];

/**
 * As {@link DORMANT_GOES_UNNAMED}, but a's sender restarted before the shutdown (5, then 3 from its
 * new start): back later, it goes on from its new total.
 */
const DORMANT_RESTARTED_GOES_UNNAMED: RestartCase['steps'] = [
  {
    sends: [
      [5, 1, 5],
      [2, 1, 5],
    ],
  },
  {
    sends: [
      [3, 8, 10],
      [2, 1, 10],
    ],
  },
  { sends: [undefined, [2, 1, 50]] },
  { down: 55, up: 75, dormant: 1 },
  { sends: [undefined, [3, 1, 130]], scrapeAt: 140 },
  {
    sends: [
      [4, 8, 150],
      [3, 1, 150],
    ],
    scrapeAt: 152,
  },
];

/**
 * As {@link DORMANT_GOES_UNNAMED}, but a's sender is back (going on from 5) after its dormant series
 * went and before the scrape that first names it; then it goes on.
 */
const DORMANT_GOES_UNNAMED_BACK_BEFORE_SCRAPE: RestartCase['steps'] = [
  {
    sends: [
      [5, 1, 10],
      [2, 1, 10],
    ],
  },
  { sends: [undefined, [2, 1, 50]] },
  { down: 55, up: 75, dormant: 1 },
  { sends: [undefined, [3, 1, 130]] },
  { sends: [[6, 1, 137], undefined], scrapeAt: 140 },
  { sends: [[7, 1, 145], undefined], scrapeAt: 147 },
];

/**
 * Task a's series expires while b's serves the label set (a's 5 carried); jobmeter is down long
 * enough for b's to be dormant at the start: the label set has no series served until b's sender
 * wakes it.
 */
const ONLY_DORMANT: RestartCase['steps'] = [
  {
    sends: [
      [5, 1, 10],
      [2, 1, 10],
    ],
    scrapeAt: 12,
  },
  { sends: [undefined, [2, 1, 50]], scrapeAt: 75 },
  { down: 76, up: 140, dormant: 1, scrapeAt: 141 },
  { sends: [undefined, [3, 1, 145]], scrapeAt: 147 },
  { sends: [[6, 1, 150], undefined], scrapeAt: 152 },
];

/**
 * Task a's sender reports once more after the last scrape before the shutdown: the file holds a
 * total of its series the carry has not counted. Down 35 s: a's series is dormant at the start,
 * b's served; a's sender wakes it.
 */
const DORMANT_AHEAD_OF_CARRY: RestartCase['steps'] = [
  {
    sends: [
      [5, 1, 10],
      [2, 1, 10],
    ],
    scrapeAt: 12,
  },
  { sends: [[6, 1, 20], undefined] },
  { sends: [undefined, [2, 1, 50]] },
  { down: 55, up: 90, dormant: 1, scrapeAt: 91 },
  { sends: [[7, 1, 100], undefined], scrapeAt: 102 },
];

/**
 * As {@link DORMANT_AHEAD_OF_CARRY}, but no scrape reads a's dormant series: it goes the expiry
 * after the start (150 s), and a's sender is back later.
 */
const DORMANT_AHEAD_GOES_UNREAD: RestartCase['steps'] = [
  {
    sends: [
      [5, 1, 10],
      [2, 1, 10],
    ],
    scrapeAt: 12,
  },
  { sends: [[6, 1, 20], undefined] },
  { sends: [undefined, [2, 1, 50]] },
  { down: 55, up: 90, dormant: 1 },
  { sends: [undefined, [3, 1, 140]], scrapeAt: 152 },
  { sends: [[7, 1, 160], undefined], scrapeAt: 162 },
];

const STARTED_SERIES = /^solti_runner_tasks_started_total\{runner="wasm"\} (\S+)$/m;

const RESTART_CASES: Record<string, RestartCase> = {
  "a dormant series the carry never saw keeps its sender's total in the label set another sender serves, and counts its wake once":
    {
      profile: 'solti',
      series: STARTED_SERIES,
      sources: [TASK_A, TASK_B],
      steps: DORMANT_NEVER_SEEN,
      served: [7, 8, 9],
    },
  "a merged histogram's dormant series the carry never saw: its count stays, its wake counted once":
    {
      profile: 'solti',
      series: DURATION_SERIES,
      bucket: DURATION_BUCKET,
      sources: [DURATION_A, DURATION_B],
      steps: DORMANT_NEVER_SEEN,
      served: [7, 8, 9],
    },
  "a dormant series that goes unwoken leaves its sender's total in the label set, and its sender back later goes on from it":
    {
      profile: 'solti',
      series: STARTED_SERIES,
      sources: [TASK_A, TASK_B],
      steps: DORMANT_NEVER_WAKES,
      served: [7, 7, 8, 9],
    },
  "a merged histogram's dormant series that goes unwoken leaves its count, and its sender back later goes on from it":
    {
      profile: 'solti',
      series: DURATION_SERIES,
      bucket: DURATION_BUCKET,
      sources: [DURATION_A, DURATION_B],
      steps: DORMANT_NEVER_WAKES,
      served: [7, 7, 8, 9],
    },
  "a dormant series no pass named that goes unwoken leaves its sender's total in the label set, and its sender back later goes on from it":
    {
      profile: 'solti',
      series: STARTED_SERIES,
      sources: [TASK_A, TASK_B],
      steps: DORMANT_GOES_UNNAMED,
      served: [8, 9],
    },
  "a merged histogram's dormant series no pass named that goes unwoken leaves its count, and its sender back later goes on from it":
    {
      profile: 'solti',
      series: DURATION_SERIES,
      bucket: DURATION_BUCKET,
      sources: [DURATION_A, DURATION_B],
      steps: DORMANT_GOES_UNNAMED,
      served: [8, 9],
    },
  'a dormant series no pass named, its sender restarted before the shutdown, goes unwoken: both totals stay, and its sender back goes on from its new one':
    {
      profile: 'solti',
      series: STARTED_SERIES,
      sources: [TASK_A, TASK_B],
      steps: DORMANT_RESTARTED_GOES_UNNAMED,
      served: [11, 12],
    },
  "a merged histogram's dormant series no pass named, its sender restarted before the shutdown, goes unwoken: both counts stay, its return once":
    {
      profile: 'solti',
      series: DURATION_SERIES,
      bucket: DURATION_BUCKET,
      sources: [DURATION_A, DURATION_B],
      steps: DORMANT_RESTARTED_GOES_UNNAMED,
      served: [11, 12],
    },
  'a dormant series no pass named that goes unwoken, its sender back before the next scrape: its total once':
    {
      profile: 'solti',
      series: STARTED_SERIES,
      sources: [TASK_A, TASK_B],
      steps: DORMANT_GOES_UNNAMED_BACK_BEFORE_SCRAPE,
      served: [9, 10],
    },
  "a merged histogram's dormant series no pass named that goes unwoken, its sender back before the next scrape: its count once":
    {
      profile: 'solti',
      series: DURATION_SERIES,
      bucket: DURATION_BUCKET,
      sources: [DURATION_A, DURATION_B],
      steps: DORMANT_GOES_UNNAMED_BACK_BEFORE_SCRAPE,
      served: [9, 10],
    },
  "a label set whose one series is dormant keeps an expired sender's total unserved, and serves it again when the dormant series wakes":
    {
      profile: 'solti',
      series: STARTED_SERIES,
      sources: [TASK_A, TASK_B],
      steps: ONLY_DORMANT,
      served: [7, 7, undefined, 8, 9],
    },
  "a merged histogram whose one series is dormant keeps an expired sender's count, served again on the wake":
    {
      profile: 'solti',
      series: DURATION_SERIES,
      bucket: DURATION_BUCKET,
      sources: [DURATION_A, DURATION_B],
      steps: ONLY_DORMANT,
      served: [7, 7, undefined, 8, 9],
    },
  'a dormant series whose sender restarted while jobmeter was down: its old total and its new one, each once':
    {
      profile: 'solti',
      series: STARTED_SERIES,
      sources: [TASK_A, TASK_B],
      steps: [
        {
          sends: [
            [5, 1, 10],
            [2, 1, 10],
          ],
        },
        { sends: [undefined, [2, 1, 50]] },
        { down: 55, up: 75, dormant: 1, scrapeAt: 76 },
        { sends: [[2, 78, 80], undefined], scrapeAt: 82 },
        {
          sends: [
            [3, 78, 85],
            [3, 1, 85],
          ],
          scrapeAt: 87,
        },
      ],
      served: [7, 9, 11],
    },
  'a zero-filled counter whose every series is dormant serves what they counted, and each wake adds what it counted since':
    {
      profile: 'runwisp',
      series: /^runwisp_runs_total\{status="failed"\} (\S+)$/m,
      sources: [FAILURE, TIMEOUT],
      steps: [
        {
          sends: [
            [5, 1, 10],
            [2, 1, 10],
          ],
        },
        { down: 15, up: 80, dormant: 2, scrapeAt: 81 },
        { sends: [undefined, [3, 1, 85]], scrapeAt: 87 },
        { sends: [[6, 1, 90], undefined], scrapeAt: 92 },
      ],
      served: [7, 8, 9],
    },
  'a dormant series whose file holds more than the carry counted serves that too, and counts its wake once':
    {
      profile: 'solti',
      series: STARTED_SERIES,
      sources: [TASK_A, TASK_B],
      steps: DORMANT_AHEAD_OF_CARRY,
      served: [7, 8, 9],
    },
  "a merged histogram's dormant series whose file holds more than the carry counted: that too, its wake once":
    {
      profile: 'solti',
      series: DURATION_SERIES,
      bucket: DURATION_BUCKET,
      sources: [DURATION_A, DURATION_B],
      steps: DORMANT_AHEAD_OF_CARRY,
      served: [7, 8, 9],
    },
  'a dormant series whose file holds more than the carry counted, gone unread: that stays, and its sender back goes on from it':
    {
      profile: 'solti',
      series: STARTED_SERIES,
      sources: [TASK_A, TASK_B],
      steps: DORMANT_AHEAD_GOES_UNREAD,
      served: [7, 9, 10],
    },
  "a merged histogram's dormant series whose file holds more than the carry counted, gone unread: that stays":
    {
      profile: 'solti',
      series: DURATION_SERIES,
      bucket: DURATION_BUCKET,
      sources: [DURATION_A, DURATION_B],
      steps: DORMANT_AHEAD_GOES_UNREAD,
      served: [7, 9, 10],
    },
};

describe('a legacy profile counter across a restart whose state file holds a series dormant (its sender silent past the expiry by the start)', () => {
  for (const [name, c] of Object.entries(RESTART_CASES)) {
    it(name, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'jobmeter-dormant-'));
      // Restarted in one boot, whose monotonic clock (series/clock.ts `boot`) counts the time
      // jobmeter was down as its senders' silence.
      const clock = fakeClock();
      const booted = Object.assign(clock, {
        boot: () => ({ id: 'boot-1', monotonicMillis: clock.monotonicMillis() }),
      });
      const at = (seconds: number) =>
        clock.advance(EPOCH_SECONDS * 1000 + seconds * 1000 - clock.wallMillis());
      const lines: string[] = [];
      /**
       * A jobmeter's ingest and naming, one carry for both (as createJobmeter makes them), its
       * state file loaded.
       */
      const start = () => {
        const sources = new SourceTotals(mergesScopes(resolveProfile(c.profile, false)));
        const newStore = () => new IngestStore({ clock: booted, expiryMillis: EXPIRY, sources });
        const store = newStore();
        const keeper = StateKeeper.open(store, {
          dir,
          host: '127.0.0.1',
          port: 4318,
          maxBytes: 1e6,
          log: (_level, msg, _fields, text) => lines.push(text ?? msg),
          emptyStore: newStore,
          carry: sources,
        });
        const namer = createNamer(resolveProfile(c.profile, false), {
          hostname: 'h',
          totals: new ServedTotals(),
          sources,
        });
        return { store, keeper, namer };
      };
      let jm = start();
      const read = async (): Promise<number | undefined> => {
        const text = renderOpenMetrics(await scrapedFamilies(jm.store, jm.namer));
        // The profile's labels: a task's series, dormant or not, is served under its runner alone.
        assert.doesNotMatch(text, /task="/);
        const m = c.series.exec(text);
        if (c.bucket !== undefined)
          assert.equal(c.bucket.exec(text)?.[1], m?.[1], 'the bucket counts carried as the count');
        return m === null ? undefined : Number(m[1]);
      };
      try {
        const served: (number | undefined)[] = [];
        for (const step of c.steps) {
          if ('down' in step) {
            at(step.down);
            await jm.keeper.close();
            at(step.up);
            jm = start();
            // The start held the sequence's series dormant: what this test is about.
            const dormant = `from ${jm.keeper.path}; ${step.dormant} source series dormant`;
            assert.ok(lines.at(-1)!.includes(dormant), lines.at(-1));
          } else
            for (const [i, point] of step.sends.entries()) {
              if (point === undefined) continue;
              at(point[2]);
              ingestPoint(jm.store, c.sources[i]!, point);
            }
          if (step.scrapeAt === undefined) continue;
          at(step.scrapeAt);
          served.push(await read());
        }
        assert.deepEqual(served, c.served, 'served after each scrape: what the senders counted');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('the sources a served counter keeps apart', () => {
  it("take a forgotten series' departure by its key: a delta source restored from a checkpoint counts its new series whole", () => {
    const instrument = instrumentKey({ name: 'scope', version: '1' }, 'events');
    const before = new SourceTotals();
    before.begin();
    before.of(instrument, 'events_total').report({ k: 'a' }, 'k="a"', 10, 0);
    const totals = new SourceTotals();
    totals.restore(before.snapshot());
    const rule = totals.of(instrument, 'events_total');
    const settle = (): number => {
      let kept = 0;
      rule.settle(
        () => true,
        (part) => {
          kept += part.total;
        },
      );
      return kept;
    };
    totals.begin();
    assert.equal(settle(), 10, 'restored, its series dormant: its part kept');
    // The dormant series of a delta sender is forgotten (ingest/series-registry.ts): no last report.
    totals.departedAs(instrument, { k: 'a' }, { last: undefined });
    totals.begin();
    assert.equal(settle(), 10, 'gone: nothing counted while dormant');
    totals.begin();
    // Its sender comes back: a new series, whose first windows hold 15.
    assert.equal(rule.report({ k: 'a' }, 'k="a"', 15, 0), 25, 'its new windows counted whole');
  });

  it('are bounded under churn: past the cap the oldest gone fold into their label set, which keeps its total', () => {
    const totals = new SourceTotals();
    const rule = totals.of('scope\0instrument\0family', 'family');
    const extra = 50;
    let served = 0;
    // Each pass one new source counts 1 under the same label set, and the previous one is gone.
    for (let i = 0; i < MAX_GONE_SOURCES + extra; i++) {
      totals.begin();
      let total = rule.report({ sender: String(i) }, 'l', 1, 0);
      rule.settle(
        () => true,
        (part) => {
          total += part.total;
        },
      );
      assert.ok(total >= served, `pass ${i}: ${total} after ${served}`);
      served = total;
    }
    assert.equal(served, MAX_GONE_SOURCES + extra, 'every source counted once');
    assert.equal(rule.folded, extra - 1, 'the oldest gone past the cap folded');
  });
});

/** One cumulative point of `instrument` with `attributes` and `value`, POSTed as OTLP/JSON to `jm`'s ingest. */
async function send(
  jm: Jobmeter,
  instrument: string,
  attributes: Record<string, string>,
  value: number,
): Promise<void> {
  await postMetric(jm.ingestAddress!.port, {
    name: instrument,
    sum: {
      aggregationTemporality: 2,
      isMonotonic: true,
      dataPoints: [
        {
          attributes: Object.entries(attributes).map(([key, v]) => ({
            key,
            value: { stringValue: v },
          })),
          startTimeUnixNano: (BigInt(STARTED) * 1_000_000n).toString(),
          timeUnixNano: (BigInt(Date.now()) * 1_000_000n).toString(),
          asDouble: value,
        },
      ],
    },
  });
}

/** When the senders started counting: a minute before the tests. */
const STARTED = Date.now() - 60_000;

/** The value of `family`'s series `labels` in `jm`'s scrape. */
async function servedOf(jm: Jobmeter, family: string, labels: string): Promise<unknown> {
  const f = (await jm.scrape()).find((x) => x.name === family);
  const series = f?.series.find((x) => x.labels === labels);
  return series !== undefined && 'value' in series ? series.value : undefined;
}

describe('createJobmeter with an ingest under a legacy profile', () => {
  it("carries an expired sender's counter in what it serves: its total once, not again on its return", async () => {
    const expiryMillis = 200;
    const jm = await createJobmeter({
      profile: 'runwisp',
      listener: false,
      ingest: { port: 0, expiryMillis },
    });
    try {
      const failed = () => servedOf(jm, 'runwisp_runs_total', 'status="failed"');
      await send(jm, 'jobmeter.run.history', { outcome: 'failure' }, 7);
      assert.equal(await failed(), 7);
      // Idle past the expiry (on the monotonic clock): the source series is gone.
      await sleep(expiryMillis * 3);
      assert.equal(await failed(), 7, 'zero-filled: it keeps what its sender counted');
      await send(jm, 'jobmeter.run.history', { outcome: 'failure' }, 11);
      assert.equal(await failed(), 11, 'the sender went on from 7: 4 more, not 11 more');
    } finally {
      await jm.shutdown();
    }
  });

  it("keeps an expired sender's part across its own restart: the state file holds the carry", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobmeter-carry-'));
    const port = await freePort();
    const expiryMillis = 1_000;
    const open = () =>
      createJobmeter({
        profile: 'solti',
        listener: false,
        ingest: { port, expiryMillis, stateDir: dir },
        log: () => {},
      });
    const wasm = 'runner="wasm"';
    const started = (jm: Jobmeter) => servedOf(jm, 'solti_runner_tasks_started_total', wasm);
    const task = (name: string) => ({ task: name, kind: 'task', runner: 'wasm' });
    try {
      let jm = await open();
      try {
        await send(jm, 'jobmeter.run.started', task('a'), 5);
        await send(jm, 'jobmeter.run.started', task('b'), 2);
        assert.equal(await started(jm), 7);
        // Task a's sender stops; b's goes on until a has expired.
        await sleep(expiryMillis * 0.6);
        await send(jm, 'jobmeter.run.started', task('b'), 2);
        await sleep(expiryMillis * 0.6);
        assert.equal(await started(jm), 7, "a's 5 stay in the series b still serves");
      } finally {
        await jm.shutdown();
      }
      jm = await open();
      try {
        // Before b's sender reports again the label set serves both parts from the state file:
        // the counter does not step back across the restart.
        assert.equal(await started(jm), 7, "a's 5 and b's 2, right after the restart");
        // b goes on (restored, or made again if it expired meanwhile: its total is the same).
        await send(jm, 'jobmeter.run.started', task('b'), 3);
        assert.equal(await started(jm), 8, "a's 5 and b's 3, after the restart as before it");
      } finally {
        await jm.shutdown();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
