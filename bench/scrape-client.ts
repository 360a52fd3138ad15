/**
 * The client of the event-loop scenario's socket rows, run as a child process (`fork`) so that
 * reading 15 MB bodies never runs on the event loop being measured. Plain `node:http` GETs over
 * one keep-alive connection, one per message from the parent; the answer goes back over IPC.
 *
 * A checked scrape keeps the body, gunzips it when compressed and counts the bench's sample lines,
 * so a server that drops series or breaks the framing fails the run. A timed scrape only counts
 * bytes and drops them: what a scraper does with the body is not the server's business, and
 * decoding 15 MB here would take CPU from the server on a 2-core machine.
 */
import { Agent, get, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { countBenchSamples } from './series.ts';

export interface ScrapeAsk {
  readonly url: string;
  readonly gzip: boolean;
  readonly check: boolean;
}

export interface ScrapeAnswer {
  readonly status: number;
  readonly contentEncoding: string | undefined;
  readonly transferEncoding: string | undefined;
  /** Bytes on the wire (after Content-Encoding). */
  readonly wireBytes: number;
  /** Decoded body bytes and bench sample lines, for a checked scrape. */
  readonly bodyBytes?: number;
  readonly samples?: number;
  /** From the request to the body's last byte, in this process. */
  readonly ms: number;
  readonly error?: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function scrape(ask: ScrapeAsk): Promise<ScrapeAnswer> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = get(ask.url, { agent, headers: ask.gzip ? { 'accept-encoding': 'gzip' } : {} }, (res: IncomingMessage) => {
      const kept: Buffer[] = [];
      let wireBytes = 0;
      res.on('data', (c: Buffer) => {
        wireBytes += c.length;
        if (ask.check) kept.push(c);
      });
      res.on('error', reject);
      res.on('end', () => {
        const ms = performance.now() - t0;
        const base = {
          status: res.statusCode ?? 0,
          contentEncoding: res.headers['content-encoding'],
          transferEncoding: res.headers['transfer-encoding'],
          wireBytes,
          ms,
        };
        if (!ask.check) return resolve(base);
        const raw = Buffer.concat(kept);
        const body = base.contentEncoding === 'gzip' ? gunzipSync(raw) : raw;
        resolve({ ...base, bodyBytes: body.length, samples: countBenchSamples(body.toString('utf8')) });
      });
    });
    req.on('error', reject);
  });
}

process.on('message', (ask: ScrapeAsk) => {
  scrape(ask).then(
    (answer) => process.send!(answer),
    (err: unknown) => process.send!({ status: 0, contentEncoding: undefined, transferEncoding: undefined, wireBytes: 0, ms: 0, error: String(err) } satisfies ScrapeAnswer),
  );
});
// The parent closing the IPC channel is the end of the run.
process.on('disconnect', () => {
  agent.destroy();
});
