/**
 * jobmeter's own telemetry, as the Collector keeps its own (`otelcol_receiver_accepted_metric_points`,
 * `..._refused_...`, `otelcol_exporter_sent_metric_points`, `..._send_failed_...`, `otelcol_process_*`):
 * its build (as `prometheus_build_info`), the process' memory, CPU time and event-loop delay,
 * points the ingest accepted and refused by reason, requests it answered by status and reason,
 * the series and bytes it holds against their cap and budget, whether `/ready` says ready, connections it shed to keep room by what they
 * held, the ingest state's failed checkpoints and last success, points and exports the OTLP push
 * sent and failed, how the last configuration load went (as Prometheus'), and how long scrapes
 * of the metrics route took. Every family a configured part has is served from the first scrape,
 * at 0 before its first event (an alert needs no absent()), but the checkpoint's last success
 * time: no state file read or written yet, no time to tell.
 * `jobmeter serve` serves these families on a listener of their own (`[telemetry] listen`), so
 * they never mix into a profile's body, whose series set is the original's.
 *
 * What must stay true: recording is a few additions (it runs on every scrape and export); the
 * families are built only when the telemetry listener is scraped.
 */
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';

import { DELAY_FIGURES, sampleEventLoopDelay } from '../common/event-loop-delay.ts';
import { renderLabelPairs } from '../exposition/escape.ts';
import type { Family } from '../exposition/types.ts';
import { sanitizeLabelName } from '../naming/prometheus-names.ts';
import { SHED_REASONS, type ShedReason } from './connection-room.ts';
import { notReadyReasons, type PipelineState } from './health-route.ts';

/** Upper bounds of the scrape duration histogram, in seconds (Prometheus' scrape timeout defaults to 10 s). */
export const SCRAPE_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Where the ingest's figures are read from (its store and its listener's table of answers). */
export interface IngestSource {
  /** Points refused by reason, source series expired since start, series and bytes held. */
  readonly store: {
    refusedByReason(): ReadonlyMap<string, number>;
    readonly expiredSeries: number;
    readonly seriesCount: number;
    readonly memoryBytes: number;
  };
  /** The caps the held series and bytes are served against. */
  readonly maxSeries: number;
  readonly maxMemoryBytes: number;
  /** Every reason points may be refused for: each served from start, 0 until its first refusal. */
  readonly reasons: readonly string[];
  /** Every answer of the listener, by reason, with its HTTP status (ingest/ingest-errors.ts). */
  readonly answers: Readonly<Record<string, { readonly status: number }>>;
  /** Its state's checkpoints, when it keeps one: failures and last success (state-keeper.ts `health`). */
  readonly checkpoints:
    (() => { readonly failures: number; readonly writtenSeconds: number | undefined }) | undefined;
}

/** Where the outcome of the last configuration load is read from (serve's reload.ts). */
export type ConfigSource = () => { readonly successful: boolean; readonly successSeconds: number };

export class SelfTelemetry {
  readonly #buildLabels: string;
  #accepted = 0;
  readonly #shed = new Map<ShedReason, number>(SHED_REASONS.map((r) => [r, 0]));
  // Every answer from start, so an alert on a rate needs no absent().
  readonly #answers = new Map<string, number>();
  #ingest: IngestSource | undefined;
  #config: ConfigSource | undefined;
  #pipeline: (() => PipelineState) | undefined;
  readonly #push = { sentPoints: 0, failedPoints: 0, sentExports: 0, failedExports: 0 };
  readonly #scrapeCounts = new Array<number>(SCRAPE_BUCKETS.length + 1).fill(0);
  #scrapeSum = 0;
  #scrapeCount = 0;
  #pushing = false;
  #delay: ReturnType<typeof sampleEventLoopDelay> | undefined;

  /** `build`: the attributes of the running build (`jobmeter.build.info`'s, for jobmeter itself). */
  constructor(build: Readonly<Record<string, string>>) {
    this.#buildLabels = renderLabelPairs(
      Object.keys(build).map(sanitizeLabelName),
      Object.values(build),
    );
  }

  /** The ingest is on: its counts are served, its refusals, holdings and checkpoints read from `source`. */
  ingestFrom(source: IngestSource): void {
    this.#ingest = source;
    for (const answer of Object.keys(source.answers)) this.#answers.set(answer, 0);
  }

  /** The configuration is (re)loaded from files: how its last load went is served, read from `source`. */
  configFrom(source: ConfigSource): void {
    this.#config = source;
  }

  /** `/ready`'s judgement is served as `jobmeter_ready`, read from `pipeline` (health-route.ts judges it). */
  readinessFrom(pipeline: () => PipelineState): void {
    this.#pipeline = pipeline;
  }

  /**
   * Samples the event-loop delay from now on (the telemetry listener is up, so its figures are
   * read); returns what stops the sampler.
   */
  sampleEventLoop(): () => void {
    const delay = (this.#delay = sampleEventLoopDelay());
    return () => {
      delay.stop();
      this.#delay = undefined;
    };
  }

  /** Points of one request the ingest kept. */
  accepted(points: number): void {
    this.#accepted += points;
  }

  /** One request the ingest listener answered, by what it answered. */
  ingestAnswered(answer: string): void {
    this.#answers.set(answer, this.#answers.get(answer)! + 1);
  }

  /** One connection the ingest listener closed to keep room, by what it held (connection-room.ts). */
  connectionShed(reason: ShedReason): void {
    this.#shed.set(reason, this.#shed.get(reason)! + 1);
  }

  /**
   * One export about to be handed to the exporter: returns what to call with its outcome (the
   * push reader's `onExport` contract).
   */
  exporting(payload: ResourceMetrics): (result: { readonly code: number }) => void {
    this.#pushing = true;
    const points = pointsOf(payload);
    return (result) => {
      // ExportResultCode.SUCCESS is 0.
      if (result.code === 0) {
        this.#push.sentExports++;
        this.#push.sentPoints += points;
      } else {
        this.#push.failedExports++;
        this.#push.failedPoints += points;
      }
    };
  }

  /** The push is configured: its counts are served (zero until the first export). */
  pushConfigured(): void {
    this.#pushing = true;
  }

  /** One scrape of the metrics route answered, `seconds` from its request to its last byte. */
  scraped(seconds: number): void {
    let i = 0;
    while (i < SCRAPE_BUCKETS.length && seconds > SCRAPE_BUCKETS[i]!) i++;
    this.#scrapeCounts[i]!++;
    this.#scrapeSum += seconds;
    this.#scrapeCount++;
  }

  /** The families, for the telemetry listener. */
  families(): Family[] {
    const out: Family[] = [
      {
        name: 'jobmeter_build_info',
        type: 'gauge',
        help: 'Always 1; the labels carry the running build of jobmeter.',
        unit: '',
        series: [{ labels: this.#buildLabels, value: 1 }],
      },
    ];
    if (this.#pipeline !== undefined) {
      out.push(
        gauge(
          'jobmeter_ready',
          'Whether /ready answers 200 (1) or 503 (0): the push, the ingest memory budget, its checkpoints and its refusals for point times, as /ready judges them.',
          '',
          notReadyReasons(this.#pipeline()).length === 0 ? 1 : 0,
        ),
      );
    }
    const ingest = this.#ingest;
    if (ingest !== undefined) {
      const { store } = ingest;
      const counts = store.refusedByReason();
      const refused = [...new Set([...ingest.reasons, ...counts.keys()])]
        .sort()
        .map((reason) => [reason, counts.get(reason) ?? 0] as const);
      out.push(
        counter('jobmeter_ingest_accepted_points_total', 'OTLP data points the ingest kept.', [
          { labels: '', value: this.#accepted },
        ]),
        counter(
          'jobmeter_ingest_refused_points_total',
          'OTLP data points the ingest refused, by reason (as jobmeter.ingest.refused and each partial_success).',
          refused.map(([reason, value]) => ({ labels: `reason="${reason}"`, value })),
        ),
        counter(
          'jobmeter_ingest_connections_shed_total',
          'Connections the ingest listener closed to make room for new ones at its cap, by what they held (idle, headers, slow_body) or full: a newcomer closed while every connection had a whole request in.',
          [...this.#shed].map(([reason, value]) => ({ labels: `reason="${reason}"`, value })),
        ),
        counter(
          'jobmeter_ingest_requests_total',
          'OTLP/HTTP requests the ingest listener answered, by HTTP status code and reason (accepted, partial: some points refused, or what refused the whole request).',
          [...this.#answers].map(([reason, value]) => ({
            labels: `code="${ingest.answers[reason]!.status}",reason="${reason}"`,
            value,
          })),
        ),
        counter(
          'jobmeter_ingest_series_expired_total',
          'Source series the ingest dropped because no point came for expiry_ms; a series that comes back starts over, its start time telling a scraper where its value counts from.',
          [{ labels: '', value: store.expiredSeries }],
        ),
        gauge(
          'jobmeter_ingest_series',
          "Source series the ingest holds (each sender's streams).",
          '',
          store.seriesCount,
        ),
        gauge(
          'jobmeter_ingest_series_limit',
          'Source series the ingest may hold in all: past it, points of new series are refused (series_cap).',
          '',
          ingest.maxSeries,
        ),
        gauge(
          'jobmeter_ingest_memory_usage_bytes',
          'Estimated bytes the ingest holds, the figure checked against its memory budget (/ready says 503 from 95% of it).',
          'bytes',
          store.memoryBytes,
        ),
        gauge(
          'jobmeter_ingest_memory_limit_bytes',
          "The ingest's memory budget (ingest.max_memory_bytes): past it, new series are refused (memory_budget).",
          'bytes',
          ingest.maxMemoryBytes,
        ),
      );
    }
    const checkpoints = this.#ingest?.checkpoints;
    if (checkpoints !== undefined) {
      const { failures, writtenSeconds } = checkpoints();
      out.push(
        counter(
          'jobmeter_ingest_checkpoint_failures_total',
          'Writes of the ingest state file that failed (the ingested series are then served as of the last one written).',
          [{ labels: '', value: failures }],
        ),
      );
      if (writtenSeconds !== undefined) {
        out.push({
          name: 'jobmeter_ingest_checkpoint_last_success_timestamp_seconds',
          type: 'gauge',
          help: 'When the ingest state file last took the held state (its last write, or its read at start), Unix seconds; nothing is written while nothing arrives.',
          unit: 'seconds',
          series: [{ labels: '', value: writtenSeconds }],
        });
      }
    }
    if (this.#pushing) {
      const p = this.#push;
      out.push(
        counter(
          'jobmeter_push_sent_points_total',
          'Data points in OTLP exports the endpoint accepted.',
          [{ labels: '', value: p.sentPoints }],
        ),
        counter(
          'jobmeter_push_failed_points_total',
          'Data points in OTLP exports that failed (dropped: nothing is queued).',
          [{ labels: '', value: p.failedPoints }],
        ),
        counter('jobmeter_push_exports_total', 'OTLP exports by outcome.', [
          { labels: 'outcome="sent"', value: p.sentExports },
          { labels: 'outcome="failed"', value: p.failedExports },
        ]),
      );
    }
    if (this.#config !== undefined) {
      const { successful, successSeconds } = this.#config();
      out.push(
        gauge(
          'jobmeter_config_last_reload_successful',
          'Whether the last configuration load (at start or on SIGHUP) succeeded: 1, or 0 while the running configuration is kept over a file that does not load.',
          '',
          successful ? 1 : 0,
        ),
        gauge(
          'jobmeter_config_last_reload_success_timestamp_seconds',
          'When the configuration last loaded successfully, Unix seconds.',
          'seconds',
          successSeconds,
        ),
      );
    }
    out.push(...processFamilies());
    // The delay since the previous scrape (the previous figures when too soon for a sample).
    const delay = this.#delay?.read();
    DELAY_FIGURES.forEach(([figure], i) =>
      out.push(
        gauge(
          `jobmeter_nodejs_eventloop_delay_${figure}_seconds`,
          `Event loop ${figure} delay since the previous scrape (nodejs.eventloop.delay.${figure}); 0 before the first sample.`,
          'seconds',
          delay?.[i] ?? 0,
        ),
      ),
    );
    out.push({
      name: 'jobmeter_scrape_duration_seconds',
      type: 'histogram',
      help: 'Scrapes of the metrics route, from the request to the last byte of the answer.',
      unit: 'seconds',
      series: [
        {
          labels: '',
          bounds: SCRAPE_BUCKETS,
          counts: [...this.#scrapeCounts],
          sum: this.#scrapeSum,
          count: this.#scrapeCount,
        },
      ],
    });
    return out;
  }
}

/** The process' own figures under semantic-convention names, as the Collector serves `otelcol_process_*`. */
function processFamilies(): Family[] {
  const cpu = process.cpuUsage();
  return [
    gauge(
      'jobmeter_process_memory_usage_bytes',
      'Resident set size of the process (process.memory.usage).',
      'bytes',
      process.memoryUsage.rss(),
    ),
    {
      ...counter(
        'jobmeter_process_cpu_time_seconds_total',
        'CPU time used by the process, by mode (process.cpu.time).',
        [
          { labels: 'cpu_mode="user"', value: cpu.user / 1e6 },
          { labels: 'cpu_mode="system"', value: cpu.system / 1e6 },
        ],
      ),
      unit: 'seconds',
    },
  ];
}

function gauge(name: string, help: string, unit: string, value: number): Family {
  return { name, type: 'gauge', help, unit, series: [{ labels: '', value }] };
}

function counter(name: string, help: string, series: { labels: string; value: number }[]): Family {
  return { name, type: 'counter', help, unit: '', series };
}

function pointsOf(payload: ResourceMetrics): number {
  let points = 0;
  for (const sm of payload.scopeMetrics) for (const m of sm.metrics) points += m.dataPoints.length;
  return points;
}
