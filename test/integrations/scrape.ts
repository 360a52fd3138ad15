/**
 * Reading one sample back from a jobmeter endpoint's text exposition, for the integration tests.
 */
import { parseExposition, type Sample } from '../support/exposition-parser.ts';

/** The text 0.0.4 body a scrape of `port` gets. */
export async function scrapeText(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
    headers: { accept: 'text/plain;version=0.0.4' },
  });
  if (res.status !== 200) throw new Error(`scrape: HTTP ${res.status}`);
  return res.text();
}

/** The samples of `name` whose labels include `labels`. */
export function samples(text: string, name: string, labels: Record<string, string> = {}): Sample[] {
  return parseExposition(text, 'text').filter(
    (l): l is Sample =>
      l.kind === 'sample' &&
      l.name === name &&
      Object.entries(labels).every(([k, v]) => l.labels.some(([lk, lv]) => lk === k && lv === v)),
  );
}

/** The sum of those samples' values (0 when there are none). */
export function value(text: string, name: string, labels: Record<string, string> = {}): number {
  return samples(text, name, labels).reduce((sum, s) => sum + s.value, 0);
}

/**
 * Scrapes `port` every 50 ms until `name{labels}` sums to `expected`, for at most `millis`; fails
 * saying the last value seen. Resolves with the body that showed it.
 */
export async function scrapeUntil(
  port: number,
  name: string,
  labels: Record<string, string>,
  expected: number,
  millis: number,
): Promise<string> {
  const deadline = performance.now() + millis;
  for (;;) {
    const text = await scrapeText(port);
    const seen = value(text, name, labels);
    if (seen === expected) return text;
    if (performance.now() > deadline)
      throw new Error(
        `${name}${JSON.stringify(labels)} was ${seen} ${millis} ms on, not ${expected}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}
