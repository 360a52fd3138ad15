/**
 * What serve's status page shows (status-page.ts), gathered at each request from what serve
 * already reads, so the page says what `/metrics` and `/ready` say: its own telemetry
 * (self-telemetry.ts: the build, the ingest's points, series and bytes against their caps, the
 * checkpoints, the last configuration load), `/ready`'s judgement, the ingest's record of its
 * senders (ingest/senders.ts), and one collection of the profile's series (the largest families).
 *
 * A family's name and a sender's resource attributes come from senders: they are cut (to
 * {@link MAX_TEXT} characters here, or where they are recorded) and escaped where they are
 * written, never trusted.
 */
import { cutString } from '../domain/bounded-attributes.ts';
import type { RenderFamily } from '../exposition/render-model.ts';
import { parseLabelPairs } from '../exposition/escape.ts';
import { numberColumns, seriesCount } from '../exposition/samples.ts';
import { notReadyReasons, type PipelineState } from './health-route.ts';

/** Where the figures are read from: serve's own readers, each called once per request. */
export interface StatusSource {
  /** The profile serve serves under. */
  readonly profile: string;
  /** jobmeter's own telemetry, as the telemetry listener's `/metrics` collects it. */
  telemetry(): Promise<readonly RenderFamily[]>;
  /** The profile's families, as a scrape of its metrics route collects them. */
  scrape(): Promise<readonly RenderFamily[]>;
  /** What `/ready` judges. */
  pipeline(): PipelineState;
  /** The last configuration load's changed keys, names only (cli/reload.ts `lastReload`); none when not loaded from files. */
  readonly reloaded?: () => { readonly changed: readonly string[] };
  /** Who pushes to the ingest; undefined: the ingest is off. */
  readonly senders?: () => StatusSenders | undefined;
}

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

/** Longest string shown of one value a sender chose; the rest is cut with `…`. */
export const MAX_TEXT = 256;
/** Families listed, the largest by series first. */
export const TOP_FAMILIES = 20;

/**
 * What the page shows, as `/status.json` serves it: when it was gathered (ISO 8601), the build
 * (`jobmeter_build_info`'s labels), profile, uptime and `/ready`'s judgement; the ingest's points,
 * series and bytes against their caps and its senders (undefined, and `senders` empty, while the
 * ingest is off); the checkpoints (undefined: no state kept; a figure undefined before the first
 * write or read); the last configuration load (undefined: not loaded from files; `changed` names
 * keys, never a value); the largest families by series (at most {@link TOP_FAMILIES}) and the
 * totals the profile serves.
 */
export type StatusData = Awaited<ReturnType<typeof gatherStatus>>;

export async function gatherStatus(source: StatusSource) {
  const [own, served] = await Promise.all([source.telemetry(), source.scrape()]);
  const now = Date.now();
  // A family's type is shown as text.
  const sized = served.map((f): { name: string; type: string; series: number } => ({
    name: cut(f.name),
    type: f.type,
    series: seriesCount(f),
  }));
  const named = (name: string) => own.find((f) => f.name === name);
  const value = (name: string): number | undefined => {
    const family = named(name);
    return family === undefined || family.type === 'histogram'
      ? undefined
      : numberColumns(family).values[0];
  };
  const isoOf = (seconds: number | undefined) =>
    seconds === undefined ? undefined : new Date(seconds * 1000).toISOString();
  const ageOf = (seconds: number | undefined) =>
    seconds === undefined ? undefined : Math.max(0, Math.round(now / 1000 - seconds));

  const refused = named('jobmeter_ingest_refused_points_total');
  const senders = source.senders?.();
  const ingest =
    refused === undefined || refused.type === 'histogram' || senders === undefined
      ? undefined
      : {
          acceptedPoints: value('jobmeter_ingest_accepted_points_total') ?? 0,
          refusedPoints: Object.fromEntries(
            rows(refused).map(([labels, n]) => [labels['reason'] ?? '', n]),
          ),
          series: value('jobmeter_ingest_series') ?? 0,
          seriesLimit: value('jobmeter_ingest_series_limit') ?? 0,
          memoryBytes: value('jobmeter_ingest_memory_usage_bytes') ?? 0,
          memoryLimitBytes: value('jobmeter_ingest_memory_limit_bytes') ?? 0,
          senders: {
            held: senders.senders.length,
            limit: senders.limit,
            evicted: senders.evicted,
          },
        };
  const failures = value('jobmeter_ingest_checkpoint_failures_total');
  const written = value('jobmeter_ingest_checkpoint_last_success_timestamp_seconds');
  const reloaded = value('jobmeter_config_last_reload_success_timestamp_seconds');
  const reasons = notReadyReasons(source.pipeline());
  const buildInfo = named('jobmeter_build_info');
  return {
    generated: new Date(now).toISOString(),
    build: buildInfo === undefined ? {} : (rows(buildInfo)[0]?.[0] ?? {}),
    profile: source.profile,
    uptimeSeconds: Math.round(process.uptime()),
    ready: { ready: reasons.length === 0, reasons },
    ingest,
    senders: senders?.senders ?? [],
    checkpoint:
      failures === undefined
        ? undefined
        : {
            failures,
            lastSuccess: isoOf(written),
            ageSeconds: ageOf(written),
            bytes: value('jobmeter_ingest_checkpoint_size_bytes'),
            lastWriteSeconds: value('jobmeter_ingest_checkpoint_last_duration_seconds'),
          },
    reload:
      reloaded === undefined
        ? undefined
        : {
            successful: value('jobmeter_config_last_reload_successful') === 1,
            lastSuccess: isoOf(reloaded)!,
            ageSeconds: ageOf(reloaded)!,
            changed: source.reloaded?.().changed ?? [],
          },
    families: sized.sort((a, b) => b.series - a.series).slice(0, TOP_FAMILIES),
    totals: { families: sized.length, series: sized.reduce((n, f) => n + f.series, 0) },
  };
}

/** A family's series: each one's labels and its value (a histogram's: its count). */
const labelsOf = (text: string): Record<string, string> =>
  Object.fromEntries(parseLabelPairs(text));

function rows(family: RenderFamily): [Record<string, string>, number][] {
  if (family.type === 'histogram') return family.series.map((s) => [labelsOf(s.labels), s.count]);
  const { labels, values } = numberColumns(family);
  return labels.map((l, i) => [labelsOf(l), values[i]!]);
}

/** `s` cut to {@link MAX_TEXT} characters, the last one `…` (a pair split there is written as U+FFFD). */
export const cut = (s: string): string => cutString(s, MAX_TEXT);
