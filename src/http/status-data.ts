/**
 * What serve's status page shows (status-page.ts), gathered at each request from where serve's
 * own figures are kept, so the page says what `/metrics` and `/ready` say: what its telemetry
 * reads (self-telemetry.ts: the build, the ingest's points, series and bytes against their caps,
 * the checkpoints, the last configuration load), `/ready`'s judgement, the ingest's record of its
 * senders (ingest/senders.ts), and one collection of the profile's series (the largest families).
 *
 * A family's name and a sender's resource attributes come from senders: they are cut (to
 * {@link MAX_TEXT} characters here, or where they are recorded) and escaped where they are
 * written, never trusted.
 */
import { cutString } from '../domain/bounded-attributes.ts';
import type { RenderFamily } from '../exposition/render-model.ts';
import { seriesCount } from '../exposition/samples.ts';
import { sanitizeName } from '../naming/prometheus-names.ts';
import { notReadyReasons, type PipelineState } from './health-route.ts';
import type { ConfigSource, SelfTelemetry } from './self-telemetry.ts';

export type { StatusSender, StatusSenders } from './self-telemetry.ts';

/** Where the figures are read from: serve's own readers, each called once per request. */
export interface StatusSource {
  /** The profile serve serves under. */
  readonly profile: string;
  /**
   * jobmeter's own telemetry: its figures are read where its `/metrics` collection reads them (the
   * build, the ingest's store, caps and checkpoints, its points-kept counter's series).
   */
  readonly telemetry: Pick<SelfTelemetry, 'build' | 'ingest'>;
  /** The profile's families, as a scrape of its metrics route collects them. */
  scrape(): Promise<readonly RenderFamily[]>;
  /** What `/ready` judges. */
  pipeline(): PipelineState;
  /**
   * How the last configuration load went, what the telemetry's `configFrom` reads, and its changed
   * keys, names only (cli/reload.ts `lastReload`); none when not loaded from files.
   */
  readonly reloaded?: () => ReturnType<ConfigSource> & { readonly changed: readonly string[] };
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
  const served = await source.scrape();
  const now = Date.now();
  // A family's type is shown as text.
  const sized = served.map((f): { name: string; type: string; series: number } => ({
    name: cut(f.name),
    type: f.type,
    series: seriesCount(f),
  }));
  const isoOf = (seconds: number | undefined) =>
    seconds === undefined ? undefined : new Date(seconds * 1000).toISOString();
  const ageOf = (seconds: number | undefined) =>
    seconds === undefined ? undefined : Math.max(0, Math.round(now / 1000 - seconds));

  const { build } = source.telemetry;
  const ingest = source.telemetry.ingest();
  const { senders, limit, evicted } = ingest?.senders() ?? { senders: [], limit: 0, evicted: 0 };
  const checkpoint = ingest?.checkpoints?.();
  const reload = source.reloaded?.();
  const reasons = notReadyReasons(source.pipeline());
  return {
    generated: new Date(now).toISOString(),
    // Its attributes under the labels `jobmeter_build_info` has.
    build: Object.fromEntries(Object.entries(build).map(([k, v]) => [sanitizeName(k, true), v])),
    profile: source.profile,
    uptimeSeconds: Math.round(process.uptime()),
    ready: { ready: reasons.length === 0, reasons },
    ingest: ingest && {
      acceptedPoints: ingest.accepted(),
      // In the order of their series on `/metrics`.
      refusedPoints: Object.fromEntries(
        [...ingest.store.refusedByReason()].sort(([a], [b]) => (a < b ? -1 : 1)),
      ),
      series: ingest.store.seriesCount,
      seriesLimit: ingest.maxSeries,
      memoryBytes: ingest.store.memoryBytes,
      memoryLimitBytes: ingest.maxMemoryBytes,
      senders: { held: senders.length, limit, evicted },
    },
    senders,
    checkpoint: checkpoint && {
      failures: checkpoint.failures,
      lastSuccess: isoOf(checkpoint.writtenSeconds),
      ageSeconds: ageOf(checkpoint.writtenSeconds),
      bytes: checkpoint.bytes,
      lastWriteSeconds: checkpoint.lastWriteSeconds,
    },
    reload: reload && {
      successful: reload.successful,
      lastSuccess: isoOf(reload.successSeconds)!,
      ageSeconds: ageOf(reload.successSeconds)!,
      changed: reload.changed,
    },
    families: sized.sort((a, b) => b.series - a.series).slice(0, TOP_FAMILIES),
    totals: { families: sized.length, series: sized.reduce((n, f) => n + f.series, 0) },
  };
}

/** `s` cut to {@link MAX_TEXT} characters, the last one `…` (a pair split there is written as U+FFFD). */
export const cut = (s: string): string => cutString(s, MAX_TEXT);
