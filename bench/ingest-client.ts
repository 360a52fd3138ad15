/**
 * The sender of the ingest-big scenario, run as a child process (`fork`) so that building and
 * writing a 20 MiB body never runs on the event loop being measured. On `{ ingestUrl, pullUrl,
 * kind }` it builds the body (untimed), answers `{ built }`; on `send` it posts it and, while the
 * request is in flight, scrapes the pull endpoint back to back, one at a time, as a scraper that
 * keeps coming would; then answers with the request's status and time and the slowest scrape.
 * Each body is built anew (new timestamps, so every request updates the series it feeds).
 */
import { maxSizeRequest } from './max-size-request.ts';

export type BodyKind = 'protobuf' | 'json';

export interface SendAsk {
  readonly ingestUrl: string;
  readonly pullUrl: string;
  readonly kind: BodyKind;
}

export interface SendAnswer {
  readonly status: number;
  /** Whether the answer was a full success: no `partial_success` (protobuf: an empty body; JSON: `{}`). */
  readonly full: boolean;
  readonly ms: number;
  readonly scrapes: number;
  readonly scrapeMaxMs: number;
  readonly error?: string;
}

export const MAX_BODY_BYTES = 20 * 1024 * 1024;

/** `{ body, points, check }`: `check` is a sample line the pull endpoint must serve afterwards. */
export function bodyOf(
  kind: BodyKind,
  run: number,
): { body: Buffer; points: number; check: string; contentType: string } {
  const base = (BigInt(Date.now()) + BigInt(run)) * 1_000_000n;
  if (kind === 'protobuf') {
    const r = maxSizeRequest(MAX_BODY_BYTES, base);
    return {
      body: r.body,
      points: r.points,
      check: `big_gauge_0_ratio{otel_scope_name="big"} ${r.counts[0]! - 1}`,
      contentType: 'application/x-protobuf',
    };
  }
  // OTLP/JSON: gauge points with a time and a value, as in the protobuf body, up to the same limit.
  const point = (i: number): string => `{"timeUnixNano":"${base + BigInt(i)}","asDouble":${i}}`;
  const head =
    '{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"big-sender"}}]},"scopeMetrics":[{"scope":{"name":"big"},"metrics":[';
  const parts: string[] = [head];
  let size = head.length + 8;
  let points = 0;
  let first = 0;
  for (let k = 0; ; k++) {
    const ps: string[] = [];
    const metricHead = `${k === 0 ? '' : ','}{"name":"big.gauge.${k}","unit":"1","gauge":{"dataPoints":[`;
    size += metricHead.length + 4;
    for (let i = 0; i < 10_000; i++) {
      const p = point(i);
      if (size + p.length + 1 > MAX_BODY_BYTES) break;
      ps.push(p);
      size += p.length + 1;
    }
    if (ps.length === 0) break;
    if (k === 0) first = ps.length;
    parts.push(metricHead, ps.join(','), ']}}');
    points += ps.length;
    if (ps.length < 10_000) break;
  }
  parts.push(']}]}]}');
  const body = Buffer.from(parts.join(''));
  if (body.length > MAX_BODY_BYTES) throw new Error(`json body ${body.length} bytes`);
  return {
    body,
    points,
    check: `big_gauge_0_ratio{otel_scope_name="big"} ${first - 1}`,
    contentType: 'application/json',
  };
}

let ask: SendAsk | undefined;
let built: ReturnType<typeof bodyOf> | undefined;
let run = 0;

async function send(): Promise<SendAnswer> {
  const { ingestUrl, pullUrl } = ask!;
  const { body, contentType } = built!;
  let done = false;
  let scrapes = 0;
  let scrapeMaxMs = 0;
  const scraping = (async () => {
    while (!done) {
      const t = performance.now();
      const res = await fetch(pullUrl);
      await res.arrayBuffer();
      scrapes++;
      scrapeMaxMs = Math.max(scrapeMaxMs, performance.now() - t);
    }
  })();
  const t0 = performance.now();
  try {
    const res = await fetch(ingestUrl, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    const answer = await res.arrayBuffer();
    const ms = performance.now() - t0;
    done = true;
    await scraping;
    const full =
      ask!.kind === 'json'
        ? (JSON.parse(Buffer.from(answer).toString('utf8')) as { partialSuccess?: unknown })
            .partialSuccess === undefined
        : answer.byteLength === 0;
    return { status: res.status, full, ms, scrapes, scrapeMaxMs };
  } finally {
    done = true;
  }
}

process.on('message', (m: SendAsk | 'send') => {
  if (m !== 'send') {
    ask = m;
    built = bodyOf(m.kind, run++);
    process.send!({ built: built.body.length, points: built.points, check: built.check });
    return;
  }
  send().then(
    (answer) => process.send!(answer),
    (err: unknown) =>
      process.send!({
        status: 0,
        full: false,
        ms: 0,
        scrapes: 0,
        scrapeMaxMs: 0,
        error: String(err),
      } satisfies SendAnswer),
  );
});
process.on('disconnect', () => process.exit(0));
