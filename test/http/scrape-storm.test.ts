/**
 * A scrape storm on a plugin-mounted route, through real sockets: 200 concurrent scrapes make one
 * collection, the host's snapshot callback (crewshipd: cached 15 s) is called once per TTL, and
 * every response is complete.
 *
 * Deterministic by construction, not by timing: the collection is held open (an extra metric
 * producer waits) until all 200 requests have reached the route, so "concurrent" is a fact the
 * test establishes; the TTL is crossed by moving a mocked `Date`, never by waiting.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it, mock } from 'node:test';
import { gunzipSync } from 'node:zlib';

import { resourceFromAttributes } from '@opentelemetry/resources';
import type { MetricProducer } from '@opentelemetry/sdk-metrics';
import Fastify, { type FastifyInstance } from 'fastify';

import type { Family } from '../../src/exposition/types.ts';
import { jobmeterMetrics } from '../../src/http/plugin.ts';
import type { MetricsSource } from '../../src/http/route-options.ts';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import { checkExposition } from '../support/exposition-parser.ts';

const N = 200;
const TTL_MS = 15_000;

let jm: Jobmeter;
let app: FastifyInstance;
let port: number;
let collections = 0;
let snapshotCalls = 0;
/** Route-level scrapes in the current storm; the collection is released at N. */
let arrived = 0;
let releaseCollection: (() => void) | undefined;
let collectionHeld: Promise<void> = Promise.resolve();

function armStorm(): void {
  arrived = 0;
  collectionHeld = new Promise((resolve) => (releaseCollection = resolve));
}

const heldProducer: MetricProducer = {
  async collect() {
    collections++;
    await collectionHeld;
    return {
      resourceMetrics: { resource: resourceFromAttributes({}), scopeMetrics: [] },
      errors: [],
    };
  },
};

before(async () => {
  // Before createJobmeter, so the snapshot cache's clock is the mocked one.
  mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 0, 1) });
  jm = await createJobmeter({
    profile: 'crewshipd',
    listener: false,
    hostname: 'storm',
    metricProducers: [heldProducer],
  });
  jm.setSnapshotSource(() => {
    snapshotCalls++;
    return { assignments: { running: 3, queued: 2 }, queue: { depth: 2, groups: 1, depthMax: 2 } };
  });
  // The plugin sees the real jobmeter through a counter of route-level scrape calls.
  const source: MetricsSource = {
    format: jm.format,
    jsonView: jm.jsonView,
    profile: jm.profile,
    reject: (reason) => jm.reject(reason),
    scrape(): Promise<readonly Family[]> {
      if (++arrived === N) releaseCollection?.();
      return jm.scrape();
    },
  };
  app = Fastify({ logger: false });
  await app.register(jobmeterMetrics, { jobmeter: source });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});

after(async () => {
  await app?.close();
  await jm?.shutdown();
  mock.timers.reset();
});

interface Answer {
  status: number;
  contentLength: number;
  encoding: string | undefined;
  body: Buffer;
}

function scrape(gzip: boolean): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/metrics',
        agent: false,
        headers: { 'accept-encoding': gzip ? 'gzip' : 'identity' },
        signal: AbortSignal.timeout(60_000),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentLength: Number(res.headers['content-length']),
            encoding: res.headers['content-encoding'],
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** N concurrent scrapes, half gzip; returns the decoded bodies after checking each is whole. */
async function storm(): Promise<string[]> {
  armStorm();
  const answers = await Promise.all(Array.from({ length: N }, (_, i) => scrape(i % 2 === 0)));
  return answers.map((a, i) => {
    assert.equal(a.status, 200, `scrape ${i}`);
    assert.equal(a.body.length, a.contentLength, `scrape ${i}: body as long as Content-Length`);
    assert.equal(a.encoding, i % 2 === 0 ? 'gzip' : undefined);
    return (i % 2 === 0 ? gunzipSync(a.body) : a.body).toString('utf8');
  });
}

describe(`scrape storm: ${N} concurrent scrapes`, () => {
  it('make one collection and one snapshot callback call; every response is complete and the same', async () => {
    const bodies = await storm();
    assert.equal(collections, 1, 'one collection for the whole storm');
    assert.equal(snapshotCalls, 1);
    assert.equal(new Set(bodies).size, 1, 'all responses carry the same exposition');
    assert.deepEqual(checkExposition(bodies[0]!, 'text'), []);
    assert.match(bodies[0]!, /^crewshipd_assignments\{status="running",hostname="storm"\} 3$/m);
  });

  it('within the TTL, a second storm collects once more but does not call the host', async () => {
    mock.timers.tick(TTL_MS - 1);
    await storm();
    assert.equal(collections, 2);
    assert.equal(snapshotCalls, 1, 'the cached block is served');
  });

  it('past the TTL, the next storm calls the host exactly once', async () => {
    mock.timers.tick(1);
    const bodies = await storm();
    assert.equal(collections, 3);
    assert.equal(snapshotCalls, 2);
    assert.equal(new Set(bodies).size, 1);
  });
});
