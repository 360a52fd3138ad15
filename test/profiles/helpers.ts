/**
 * Shared helpers of the profile tests: a jobmeter per profile (no listener, no process metrics
 * unless asked), families looked up by name, and a real listener fetch for the served bodies.
 */
import type { HostSnapshot } from '../../src/domain/snapshot.ts';
import type { ExpositionFormat, Family, HistogramSeries } from '../../src/exposition/types.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import type { JobmeterOptions, ProfileName } from '../../src/options.ts';
import type { LegacyProfileName } from '../../src/common/option-values.ts';

/** Legacy profiles, in the seeds' order. */
export const LEGACY: readonly LegacyProfileName[] = [
  'runwisp',
  'wasmrun',
  'crewshipd',
  'rm',
  'solti',
];

/** A jobmeter for tests: no listener, no process metrics, a fixed crewshipd hostname. */
export function testJobmeter(
  profile: ProfileName,
  options: JobmeterOptions = {},
): Promise<Jobmeter> {
  return createJobmeter({
    profile,
    listener: false,
    processMetrics: false,
    hostname: 'demo-host',
    ...options,
  });
}

/** Scrapes `jm` once and returns its families by name. */
export async function scrapeByName(jm: Jobmeter): Promise<Map<string, Family>> {
  return new Map((await jm.scrape()).map((f) => [f.name, f]));
}

/** `[labels, value]` of every series of a counter/gauge family, in rendered order. */
export function numberSeries(family: Family | undefined): Array<[string, number]> {
  if (family === undefined) return [];
  if (family.type === 'histogram') throw new Error(`${family.name} is a histogram`);
  return family.series.map((s) => [s.labels, s.value]);
}

/** The histogram series of `family` with exactly `labels` (pre-rendered label string). */
export function histogramSeries(family: Family | undefined, labels: string): HistogramSeries {
  if (family?.type !== 'histogram')
    throw new Error(`${family?.name ?? 'family'} is not a histogram`);
  const s = family.series.find((x) => x.labels === labels);
  if (s === undefined)
    throw new Error(
      `${family.name}{${labels}} not found among ${family.series.map((x) => x.labels).join(' | ')}`,
    );
  return s;
}

/** A snapshot source that counts its calls. */
export function countingSource(snapshot: HostSnapshot): {
  readonly source: () => HostSnapshot;
  readonly calls: () => number;
} {
  let n = 0;
  return {
    source: () => {
      n++;
      return snapshot;
    },
    calls: () => n,
  };
}

export interface Served {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: string;
}

export interface ServeOptions {
  /** Force the listener's format; undefined: what the profile's original serves. */
  readonly format?: 'negotiate' | ExpositionFormat;
  readonly accept?: string;
  readonly json?: boolean;
  readonly otelScopeInfo?: boolean;
  /** Feeds the fresh jobmeter before the one scrape. */
  readonly feed: (jm: Jobmeter) => void;
}

/**
 * One scrape of a fresh jobmeter through a real listener on port 0. A fresh instance per scrape
 * keeps every figure a first collection (the host CPU gauge, for one, is omitted when two
 * collections fall within one kernel tick).
 */
export async function serveOnce(profile: ProfileName, options: ServeOptions): Promise<Served> {
  const jm = await createJobmeter({
    profile,
    hostname: 'demo-host',
    listener: { port: 0, ...(options.format !== undefined ? { format: options.format } : {}) },
    ...(options.otelScopeInfo !== undefined ? { otelScopeInfo: options.otelScopeInfo } : {}),
  });
  try {
    options.feed(jm);
    const url = `http://127.0.0.1:${jm.pullAddress!.port}/metrics${options.json ? '?format=json' : ''}`;
    const res = await fetch(url, {
      headers: options.accept !== undefined ? { accept: options.accept } : {},
    });
    return {
      status: res.status,
      contentType: res.headers.get('content-type'),
      body: await res.text(),
    };
  } finally {
    await jm.shutdown();
  }
}

/** Resolves with `promise`, or rejects once `millis` have passed (a guard against a hang, not a speed test). */
export function within<T>(promise: Promise<T>, millis: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not settle within ${millis} ms`)),
      millis,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
