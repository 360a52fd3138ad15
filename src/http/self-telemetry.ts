/**
 * jobmeter's own telemetry, as the Collector keeps its own (`otelcol_receiver_accepted_metric_points`,
 * `..._refused_...`, `otelcol_exporter_sent_metric_points`, `..._send_failed_...`, `otelcol_process_*`):
 * its build (as `prometheus_build_info`), the process' start time and open and max file descriptors
 * (as Prometheus'), memory, heap (as the Collector's), CPU time and event-loop delay,
 * points the ingest accepted and refused by reason, requests it answered by transport, status and
 * reason and how long they took and how big they were,
 * the series and bytes it holds against their cap and budget, whether `/ready` says ready, connections it shed to keep room by what they
 * held, the ingest state's failed checkpoints and last success, points and exports the OTLP push
 * sent and failed, how the last configuration load went (as Prometheus'), and how long scrapes
 * of the metrics route took. `jobmeter serve` serves these families on a listener of their own
 * (`[telemetry] listen`), so they never mix into a profile's body, whose series set is the original's.
 *
 * They are instruments of jobmeter's own engine (domain/storage/: the storages declared
 * instruments record into), on a meter of their own that no reader of the pipeline reads:
 * counters with attributes, observable instruments read at the collection (what the ingest holds,
 * `/ready`'s judgement, the process), and a histogram of scrape durations. The telemetry listener
 * renders a collection of them by the native naming without scope labels or `target_info`.
 *
 * What must stay true: every family a configured part has is served from the first scrape, at 0
 * before its first event (an alert needs no absent()): its series are made when the part is
 * configured (a bound or 0-added series, an observation). The checkpoint's last success time
 * alone waits for one: no state file read or written yet, no time to tell. Recording is an array
 * add (it runs on every scrape and export); the families are named only when collected.
 */
import { createNoopMeter, type ObservableResult } from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';

import { counter, histogram, observableCounter, observableGauge } from '../domain/catalog.ts';
import { guardMeter } from '../domain/guarded-meter.ts';
import { SECONDS_BOUNDARIES } from '../domain/host-buckets.ts';
import {
  EVENT_LOOP_DELAY,
  HEAP,
  PROCESS_CPU_TIME,
  PROCESS_FDS,
  PROCESS_MEMORY_USAGE,
  PROCESS_START_TIME,
  registerProcessMetrics,
  sampleEventLoopDelay,
} from '../domain/process-metrics.ts';
import { RecordGuard } from '../domain/record-guard.ts';
import { StorageRegistry } from '../domain/storage/registry.ts';
import type { BoundCounter } from '../domain/storage/handles.ts';
import type { SumStorage } from '../domain/storage/sum.ts';
import type { InstrumentSpec } from '../domain/types.ts';
import type { RenderFamily } from '../exposition/render-model.ts';
import { otelProfile } from '../naming/profiles/otel.ts';
import { createNamer } from '../naming/to-families.ts';
import { SHED_REASONS, type ShedReason } from './connection-room.ts';
import { notReadyReasons, type PipelineState } from './health-route.ts';

/**
 * Upper bounds of the duration histograms, in seconds: the Prometheus clients' defaults, up to the
 * scrape timeout's default (10 s); a checkpoint that a collection waits for more than 2 s is late.
 */
export const DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

const REASON = { key: 'reason', cap: 64 };
const ACCEPTED = counter(
  'jobmeter.ingest.accepted_points',
  '{data_point}',
  'OTLP data points the ingest kept.',
);
const SHED = counter(
  'jobmeter.ingest.connections_shed',
  '{connection}',
  'Connections the ingest listener closed to make room for new ones at its cap, by what they held (idle, headers, slow_body) or full: a newcomer closed while every connection had a whole request in.',
  [REASON],
);
/** The ingest's transports: OTLP/HTTP and OTLP/gRPC (ingest/ingest-listener.ts, grpc-listener.ts). */
export const INGEST_PROTOCOLS = ['http', 'grpc'] as const;
export type IngestProtocol = (typeof INGEST_PROTOCOLS)[number];
/**
 * A request the ingest answered: its reason (ingest/ingest-errors.ts `INGEST_ANSWERS`), its
 * transport, the seconds from its arrival to its answer, its body's bytes read (0 when refused
 * before its body).
 */
export type Answered = (
  reason: string,
  protocol: IngestProtocol,
  seconds: number,
  bytes: number,
) => void;
const PROTOCOL = { key: 'protocol', values: INGEST_PROTOCOLS };
const REQUESTS = counter(
  'jobmeter.ingest.requests',
  '{request}',
  'OTLP requests the ingest answered, by transport (protocol: http, grpc), status code (the HTTP status, or the gRPC one) and reason (accepted, partial: some points refused, or what refused the whole request).',
  [{ key: 'code', cap: 64 }, PROTOCOL, REASON],
);
// As the Collector's own http.server.request.duration and http.server.request.body.size (its
// receivers' HTTP server, otelhttp), over both transports.
const REQUEST_DURATION = histogram(
  'jobmeter.ingest.request.duration',
  's',
  'OTLP requests the ingest answered, from their arrival (its headers) to the answer, by transport.',
  [PROTOCOL],
  { buckets: SECONDS_BOUNDARIES },
);
const REQUEST_SIZE = histogram(
  'jobmeter.ingest.request.body.size',
  'By',
  'Bodies of the OTLP requests the ingest answered, as sent (an HTTP body or a gRPC message, before either is inflated), by transport; 0 for one refused before its body was read.',
  [PROTOCOL],
  { buckets: [1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216] },
);
const SENT = counter(
  'jobmeter.push.sent_points',
  '{data_point}',
  'Data points in OTLP exports the endpoint accepted.',
);
const FAILED = counter(
  'jobmeter.push.failed_points',
  '{data_point}',
  'Data points in OTLP exports that failed (dropped: nothing is queued).',
);
const EXPORTS = counter('jobmeter.push.exports', '{export}', 'OTLP exports by outcome.', [
  { key: 'outcome', values: ['sent', 'failed'] },
]);
const SCRAPES = histogram(
  'jobmeter.scrape.duration',
  's',
  'Scrapes of the metrics route, from the request to the last byte of the answer.',
  [],
  { buckets: DURATION_BUCKETS },
);
// As Prometheus times its own writes (`prometheus_tsdb_compaction_duration_seconds`); it has no
// checkpoint duration of its own.
const CHECKPOINTS = histogram(
  'jobmeter.ingest.checkpoint_duration',
  's',
  'Successful writes of the ingest state file, from reading the held state to the file in place.',
  [],
  { buckets: DURATION_BUCKETS },
);

/** `spec`'s figure under jobmeter's own `name`: its help names the instrument it stands for. */
const like = (spec: InstrumentSpec, name: string, of = observableGauge): InstrumentSpec =>
  of(name, spec.unit, `${spec.description.slice(0, -1)} (${spec.name}).`);

/**
 * The process' figures served, by the instrument whose reading each takes (domain/
 * process-metrics.ts): the conventions' process and event-loop instruments under jobmeter's own
 * names; the start time and file descriptors under Prometheus' own (its client libraries' too:
 * `time() - process_start_time_seconds` tells a restart, `process_open_fds / process_max_fds` is
 * client_golang's alert; the Collector serves none; the descriptors on Linux only); V8's used heap
 * under the Collector's name for its heap (`otelcol_process_runtime_heap_alloc_bytes`).
 */
const PROCESS: Readonly<Record<string, InstrumentSpec>> = {
  [PROCESS_MEMORY_USAGE.name]: like(PROCESS_MEMORY_USAGE, 'jobmeter.process.memory_usage'),
  [PROCESS_CPU_TIME.name]: like(PROCESS_CPU_TIME, 'jobmeter.process.cpu_time', observableCounter),
  [PROCESS_START_TIME.name]: PROCESS_START_TIME,
  ...Object.fromEntries(PROCESS_FDS.map((spec) => [spec.name, spec])),
  [HEAP[1]!.name]: observableGauge(
    'jobmeter.process.runtime.heap_alloc',
    'By',
    'Bytes of the V8 heap in use by live objects and not yet collected garbage (process.memoryUsage().heapUsed).',
  ),
  ...Object.fromEntries(
    EVENT_LOOP_DELAY.map((spec) => [
      spec.name,
      observableGauge(
        `jobmeter.${spec.name}`,
        spec.unit,
        `Event loop ${spec.name.split('.').pop()} delay since the previous scrape (${spec.name}); 0 before the first sample.`,
      ),
    ]),
  ),
};
/** The delay figures before the first sample. */
const NO_DELAY = EVENT_LOOP_DELAY.map(() => 0);

const RECORDED = [
  ACCEPTED,
  SHED,
  REQUESTS,
  REQUEST_DURATION,
  REQUEST_SIZE,
  SENT,
  FAILED,
  EXPORTS,
  SCRAPES,
  CHECKPOINTS,
];

/** One sender to the ingest, by its resource identity (ingest/senders.ts `senderKey`). */
export interface StatusSender {
  /** The identifying resource attributes it sent, each value cut where it was recorded (said so). */
  readonly identity: Readonly<Record<string, string>>;
  /** Where its last request came from (the peer's IP address); '' when not known. */
  readonly address: string;
  /** Its first and last push since start (or since it was last dropped for room), ISO 8601. */
  readonly firstPush: string;
  readonly lastPush: string;
  /** Source series held under its resources. */
  readonly series: number;
  readonly acceptedPoints: number;
  /** Its points refused, by reason (only the reasons it was refused for). */
  readonly refusedPoints: Readonly<Record<string, number>>;
  /** The temporalities of its sums and histograms: `cumulative`, `delta`, both or none (gauges only). */
  readonly temporality: readonly string[];
}

/** The ingest's senders: the latest push first, at most `limit`, `evicted` dropped for room since start. */
export interface StatusSenders {
  readonly senders: readonly StatusSender[];
  readonly limit: number;
  readonly evicted: number;
}

/** Where the ingest's figures are read from (its store and its listener's table of answers). */
export interface IngestSource {
  /**
   * Points refused by reason (every reason, 0 until its first refusal: ingest-report.ts
   * `refusedCounter`), source series expired since start, series and bytes held.
   */
  readonly store: {
    refusedByReason(): ReadonlyMap<string, number>;
    readonly expiredSeries: number;
    readonly seriesCount: number;
    readonly memoryBytes: number;
    /** Who pushes (ingest/senders.ts): how many are held. */
    readonly senders: { readonly size: number };
  };
  /** The senders as the status page lists them (status-data.ts). */
  readonly senders: () => StatusSenders;
  /** The caps the held series and bytes are served against. */
  readonly maxSeries: number;
  readonly maxMemoryBytes: number;
  /**
   * Every answer of each transport the ingest listens on, by reason, with its status code (the
   * HTTP status, the gRPC code: ingest/ingest-errors.ts).
   */
  readonly answers: Readonly<Partial<Record<IngestProtocol, Readonly<Record<string, number>>>>>;
  /** Its state's checkpoints, when it keeps one (state-keeper.ts `health`). */
  readonly checkpoints: (() => CheckpointFigures) | undefined;
}

/** What is served of the checkpoints (ingest/state-keeper.ts `CheckpointHealth`). */
export interface CheckpointFigures {
  /** Writes that failed since the start. */
  readonly failures: number;
  /** When the file last took the store's state (the last write, or the read at start), Unix seconds. */
  readonly writtenSeconds: number | undefined;
  /** The file's size then, header included. */
  readonly bytes: number | undefined;
  /** How long the last successful write took, from reading the store to the file in place; undefined before one. */
  readonly lastWriteSeconds: number | undefined;
}

/** Where the outcome of the last configuration load is read from (serve's reload.ts). */
export type ConfigSource = () => { readonly successful: boolean; readonly successSeconds: number };

export class SelfTelemetry {
  readonly #meter = new StorageRegistry([...RECORDED, ...Object.values(PROCESS)], {
    scope: { name: 'jobmeter.telemetry' },
  });
  readonly #namer = createNamer(otelProfile(false));
  readonly #scrapes = this.#meter.histogram(SCRAPES.name).bind();
  #delay: ReturnType<typeof sampleEventLoopDelay> | undefined;
  #ingest: (IngestSource & { readonly accepted: () => number }) | undefined;
  /** The attributes of the running build (`jobmeter.build.info`'s, for jobmeter itself). */
  readonly build: Readonly<Record<string, string>>;

  constructor(build: Readonly<Record<string, string>>) {
    this.build = build;
    this.#observe(
      'jobmeter.build_info',
      '',
      'Always 1; the labels carry the running build of jobmeter.',
      (r) => r.observe(1, build),
    );
    // The process' figures, observed on an OTel meter over the telemetry's own storages; the
    // delay since the previous collection (the previous figures when too soon for a sample).
    const meter = guardMeter(
      createNoopMeter(),
      { name: 'jobmeter.telemetry', version: '', schemaUrl: undefined },
      { guard: new RecordGuard(), own: this.#meter },
    );
    registerProcessMetrics(meter, PROCESS, () => this.#delay?.read() ?? NO_DELAY);
  }

  /**
   * An observable instrument of the telemetry's meter, read by `read` at each collection: the
   * number it returns is observed (none while it returns none), or it observes through the result.
   */
  #observe(
    name: string,
    unit: string,
    description: string,
    read: (result: ObservableResult) => unknown,
    kind: 'observableGauge' | 'observableCounter' = 'observableGauge',
  ): void {
    this.#meter.observed({ name, kind, unit, description, attributes: [] }).addCallback((r) => {
      const value = read(r);
      if (typeof value === 'number') r.observe(value);
    });
  }

  /**
   * The ingest is on: its refusals, holdings and checkpoints are served, read from `source`.
   * Returns its counters' series, each at 0 from now on: points kept, requests by the answer they
   * got (a row of `source.answers`), connections shed to keep room by what they held
   * (connection-room.ts); and, when it keeps a state, what records each checkpoint's duration.
   */
  ingestFrom(source: IngestSource) {
    const { store, checkpoints } = source;
    // The points kept, as the status page reads them: the counter's one series, which the
    // collection reads too.
    const accepted = this.#meter.storage(ACCEPTED.name, 'counter') as SumStorage;
    const at = accepted.seriesOf(undefined);
    this.#ingest = { ...source, accepted: () => accepted.values.data[at]! };
    this.#observe(
      'jobmeter.ingest.refused_points',
      '{data_point}',
      'OTLP data points the ingest refused, by reason (as jobmeter.ingest.refused and each partial_success).',
      (r) => {
        const counts = store.refusedByReason();
        for (const reason of [...counts.keys()].sort()) r.observe(counts.get(reason)!, { reason });
      },
      'observableCounter',
    );
    this.#observe(
      'jobmeter.ingest.series_expired',
      '{series}',
      'Source series the ingest dropped because no point came for expiry_ms; a series that comes back starts over, its start time telling a scraper where its value counts from.',
      () => store.expiredSeries,
      'observableCounter',
    );
    this.#observe(
      'jobmeter.ingest.series',
      '{series}',
      "Source series the ingest holds (each sender's streams).",
      () => store.seriesCount,
    );
    // Prometheus counts its targets (`prometheus_sd_discovered_targets`), the Collector nothing of
    // its senders: a name of jobmeter's own.
    this.#observe(
      'jobmeter.ingest.senders',
      '{sender}',
      'Senders the ingest holds a record of (by resource identity: service.namespace, service.name, service.instance.id, host.name), as the status page lists them.',
      () => store.senders.size,
    );
    this.#observe(
      'jobmeter.ingest.series_limit',
      '{series}',
      'Source series the ingest may hold in all: past it, points of new series are refused (series_cap).',
      () => source.maxSeries,
    );
    this.#observe(
      'jobmeter.ingest.memory_usage',
      'By',
      'Estimated bytes the ingest holds, the figure checked against its memory budget (/ready says 503 from 95% of it).',
      () => store.memoryBytes,
    );
    this.#observe(
      'jobmeter.ingest.memory_limit',
      'By',
      "The ingest's memory budget (ingest.max_memory_bytes): past it, new series are refused (memory_budget).",
      () => source.maxMemoryBytes,
    );
    if (checkpoints !== undefined) {
      this.#observe(
        'jobmeter.ingest.checkpoint_failures',
        '{write}',
        'Writes of the ingest state file that failed (the ingested series are then served as of the last one written).',
        () => checkpoints().failures,
        'observableCounter',
      );
      // Each figure waits for the first write or read: until then there is none to tell.
      this.#observe(
        'jobmeter.ingest.checkpoint_last_success_timestamp',
        's',
        'When the ingest state file last took the held state (its last write, or its read at start), Unix seconds; nothing is written while nothing arrives.',
        () => checkpoints().writtenSeconds,
      );
      this.#observe(
        'jobmeter.ingest.checkpoint_size',
        'By',
        'Bytes of the ingest state file as it was last written (or read at start).',
        () => checkpoints().bytes,
      );
      // As Prometheus' `prometheus_rule_group_last_duration_seconds` beside its histogram: what
      // the last one took, which a histogram cannot tell (the status page shows it).
      this.#observe(
        'jobmeter.ingest.checkpoint_last_duration',
        's',
        'How long the last successful write of the ingest state file took.',
        () => checkpoints().lastWriteSeconds,
      );
    }
    const requests = this.#meter.counter(REQUESTS.name);
    const durations = this.#meter.histogram(REQUEST_DURATION.name);
    const sizes = this.#meter.histogram(REQUEST_SIZE.name);
    // Each transport's series, bound once: an answer is an array add.
    const byProtocol = Object.fromEntries(
      Object.entries(source.answers).map(([protocol, codes]) => [
        protocol,
        {
          answers: Object.fromEntries(
            Object.entries(codes).map(([reason, code]) => [
              reason,
              requests.bind({ code: String(code), protocol, reason }),
            ]),
          ),
          duration: durations.bind({ protocol }),
          size: sizes.bind({ protocol }),
        },
      ]),
    );
    const shed = this.#meter.counter(SHED.name);
    return {
      accepted: accepted.bind(),
      answered: ((reason, protocol, seconds, bytes) => {
        const series = byProtocol[protocol]!;
        series.answers[reason]!.add(1);
        series.duration.record(seconds);
        series.size.record(bytes);
      }) satisfies Answered,
      shed: Object.fromEntries(
        SHED_REASONS.map((reason) => [reason, shed.bind({ reason })]),
      ) as Record<ShedReason, BoundCounter>,
      checkpointed:
        checkpoints === undefined ? undefined : this.#meter.histogram(CHECKPOINTS.name).bind(),
    };
  }

  /** Where the status page reads the ingest's figures from; undefined: the ingest is off. */
  ingest() {
    return this.#ingest;
  }

  /** The configuration is (re)loaded from files: how its last load went is served, read from `source`. */
  configFrom(source: ConfigSource): void {
    this.#observe(
      'jobmeter.config.last_reload_successful',
      '',
      'Whether the last configuration load (at start or on SIGHUP) succeeded: 1, or 0 while the running configuration is kept over a file that does not load.',
      () => (source().successful ? 1 : 0),
    );
    this.#observe(
      'jobmeter.config.last_reload_success_timestamp',
      's',
      'When the configuration last loaded successfully, Unix seconds.',
      () => source().successSeconds,
    );
  }

  /** `/ready`'s judgement is served as `jobmeter_ready`, read from `pipeline` (health-route.ts judges it). */
  readinessFrom(pipeline: () => PipelineState): void {
    this.#observe(
      'jobmeter.ready',
      '',
      'Whether /ready answers 200 (1) or 503 (0): the push, the ingest memory budget, its checkpoints and its refusals for point times, as /ready judges them.',
      () => (notReadyReasons(pipeline()).length === 0 ? 1 : 0),
    );
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

  /**
   * The push is configured: its counts are served from now on (0 until the first export). Returns
   * what is called with each export about to be handed to the exporter, which returns what is
   * called with its outcome (the push reader's `onExport` contract).
   */
  pushConfigured(): (payload: ResourceMetrics) => (result: { readonly code: number }) => void {
    const exports = this.#meter.counter(EXPORTS.name);
    const sent = [exports.bind({ outcome: 'sent' }), this.#meter.counter(SENT.name).bind()];
    const failed = [exports.bind({ outcome: 'failed' }), this.#meter.counter(FAILED.name).bind()];
    return (payload) => {
      let points = 0;
      for (const sm of payload.scopeMetrics)
        for (const m of sm.metrics) points += m.dataPoints.length;
      return (result) => {
        // ExportResultCode.SUCCESS is 0.
        const [exported, pointsOf] = result.code === 0 ? sent : failed;
        exported!.add(1);
        pointsOf!.add(points);
      };
    };
  }

  /** One scrape of the metrics route answered, `seconds` from its request to its last byte. */
  scraped(seconds: number): void {
    this.#scrapes.record(seconds);
  }

  /** The families, for the telemetry listener: a collection of the meter, named. */
  async families(): Promise<RenderFamily[]> {
    const collection = await this.#meter.series.collect();
    try {
      return this.#namer.toFamilies(collection);
    } finally {
      collection.done();
    }
  }
}
