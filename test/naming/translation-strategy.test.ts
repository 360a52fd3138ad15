/**
 * The native profile's translation strategies (`[naming] translation_strategy`):
 * each strategy's names and label names as served to a scraper that negotiates
 * `escaping=allow-utf-8` (OpenMetrics, text 1.0.0, protobuf) and to one that does not (text 0.0.4,
 * `escaping=underscores`, `escaping=values`), over HTTP from JobmeterReader's listener. Legacy
 * profiles refuse a strategy.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { ConfigError } from '../../src/errors.ts';
import { JobmeterReader } from '../../src/jobmeter-reader.ts';
import type { TranslationStrategy } from '../../src/common/option-values.ts';
import { escapeName } from '../../src/exposition/escape-names.ts';
import { groupFamilies, parseExposition } from '../support/exposition-parser.ts';
import { clientModelProto } from '../support/peers.ts';

const OM_UTF8 = 'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8';
const TEXT_UTF8 = 'text/plain;version=1.0.0;escaping=allow-utf-8';
const OM_UNDERSCORES = 'application/openmetrics-text;version=1.0.0;escaping=underscores';
const OM_VALUES = 'application/openmetrics-text;version=1.0.0;escaping=values';
const TEXT_004 = 'text/plain;version=0.0.4';
const PROTO_UTF8 =
  'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=allow-utf-8';
const PROTO =
  'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';

const providers: MeterProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
});

async function serve(
  translationStrategy: TranslationStrategy,
): Promise<(accept: string, path?: string) => Promise<Response>> {
  const reader = new JobmeterReader({
    listener: { port: 0 },
    translationStrategy,
    otelScopeInfo: false,
  });
  const provider = new MeterProvider({ readers: [reader] });
  providers.push(provider);
  const meter = provider.getMeter('app');
  meter
    .createCounter('http.server.requests', { unit: '{request}' })
    .add(3, { 'http.method': 'GET' });
  meter
    .createHistogram('http.server.duration', {
      unit: 's',
      advice: { explicitBucketBoundaries: [1] },
    })
    .record(0.5, { 'http.method': 'GET' });
  await reader.ready;
  return (accept, path = '/metrics') =>
    fetch(`http://127.0.0.1:${reader.pullAddress!.port}${path}`, { headers: { accept } });
}

/** The sample lines of a text body (no comments, no EOF). */
function sampleLines(body: string): string[] {
  return body.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}
async function samples(res: Response): Promise<string[]> {
  return sampleLines(await res.text());
}

const CASES: Array<[TranslationStrategy, { utf8: string[]; escaped: string[] }]> = [
  [
    'UnderscoreEscapingWithSuffixes',
    {
      utf8: [
        'http_server_requests_total{http_method="GET"} 3',
        'http_server_duration_seconds_count{http_method="GET"} 1',
      ],
      escaped: [
        'http_server_requests_total{http_method="GET"} 3',
        'http_server_duration_seconds_count{http_method="GET"} 1',
      ],
    },
  ],
  [
    'UnderscoreEscapingWithoutSuffixes',
    {
      utf8: [
        'http_server_requests{http_method="GET"} 3',
        'http_server_duration_count{http_method="GET"} 1',
      ],
      escaped: [
        'http_server_requests{http_method="GET"} 3',
        'http_server_duration_count{http_method="GET"} 1',
      ],
    },
  ],
  [
    'NoUTF8EscapingWithSuffixes',
    {
      utf8: [
        '{"http.server.requests_total","http.method"="GET"} 3',
        '{"http.server.duration_seconds_count","http.method"="GET"} 1',
      ],
      escaped: [
        'http_server_requests_total{http_method="GET"} 3',
        'http_server_duration_seconds_count{http_method="GET"} 1',
      ],
    },
  ],
  [
    'NoTranslation',
    {
      utf8: [
        '{"http.server.requests","http.method"="GET"} 3',
        '{"http.server.duration_count","http.method"="GET"} 1',
      ],
      escaped: [
        'http_server_requests{http_method="GET"} 3',
        'http_server_duration_count{http_method="GET"} 1',
      ],
    },
  ],
];

describe('translation strategies of the native profile', () => {
  for (const [strategy, expected] of CASES) {
    it(`${strategy}: UTF-8 names only with allow-utf-8, escaped otherwise`, async () => {
      const get = await serve(strategy);
      const om = await get(OM_UTF8);
      assert.match(om.headers.get('content-type')!, /escaping=allow-utf-8/);
      const omBody = await om.text();
      if (strategy.startsWith('Underscore')) {
        // The strict parser knows classic names only; Prometheus 3 parses the UTF-8 ones (e2e).
        const problems: string[] = [];
        groupFamilies(parseExposition(omBody, 'openmetrics'), 'openmetrics', problems);
        assert.deepEqual(problems, [], omBody);
      }
      for (const line of expected.utf8)
        assert.ok(sampleLines(omBody).includes(line), `${line} in\n${omBody}`);
      const text1 = await samples(await get(TEXT_UTF8));
      for (const line of expected.utf8)
        assert.ok(text1.includes(line), `${line} in text 1.0.0:\n${text1.join('\n')}`);
      for (const accept of [TEXT_004, OM_UNDERSCORES]) {
        const lines = await samples(await get(accept));
        for (const line of expected.escaped)
          assert.ok(lines.includes(line), `${line} for ${accept}:\n${lines.join('\n')}`);
      }
      // UTF-8 families as their `# TYPE` lines say: quoted when not classic.
      if (strategy.startsWith('No'))
        assert.match(omBody, /^# TYPE "http\.server\.duration[^"]*" histogram$/m);
    });
  }

  it('an attribute named like a Prometheus-internal label (`__name__`, `__x`) is served as `exported___…`, never as the name itself', async () => {
    for (const strategy of ['NoUTF8EscapingWithSuffixes', 'NoTranslation'] as const) {
      const reader = new JobmeterReader({
        listener: { port: 0 },
        translationStrategy: strategy,
        otelScopeInfo: false,
      });
      const provider = new MeterProvider({ readers: [reader] });
      providers.push(provider);
      provider
        .getMeter('app')
        .createCounter('jobs')
        .add(1, { __name__: 'other', __x: 'y', 'job.kind': 'k' });
      await reader.ready;
      for (const accept of [OM_UTF8, TEXT_UTF8, TEXT_004, OM_UNDERSCORES]) {
        const res = await fetch(`http://127.0.0.1:${reader.pullAddress!.port}/metrics`, {
          headers: { accept },
        });
        const line = sampleLines(await res.text()).find((l) => l.includes('other'));
        assert.ok(line !== undefined, `${strategy}, ${accept}: the series is served`);
        assert.match(line, /exported___name__="other"/, `${strategy}, ${accept}: ${line}`);
        assert.match(line, /exported___x="y"/, `${strategy}, ${accept}: ${line}`);
        assert.doesNotMatch(
          line,
          /[{,]"?__/,
          `${strategy}, ${accept}: no label name starts with __: ${line}`,
        );
      }
    }
  });

  it('?format=json: a label name kept in UTF-8 is its plain name as the key, never its quoted form', async () => {
    for (const strategy of ['NoUTF8EscapingWithSuffixes', 'NoTranslation'] as const) {
      const get = await serve(strategy);
      const doc = (await (await get('*/*', '/metrics?format=json')).json()) as {
        families: Array<{ name: string; series: unknown[] }>;
      };
      const family = doc.families.find((f) => f.name.startsWith('http.server.requests'));
      assert.deepEqual(
        family?.series,
        [{ labels: { 'http.method': 'GET' }, value: 3 }],
        `${strategy}: ${JSON.stringify(doc)}`,
      );
    }
  });

  it('values escaping: U__ names, as prometheus/common escapes them', async () => {
    const get = await serve('NoUTF8EscapingWithSuffixes');
    const lines = await samples(await get(OM_VALUES));
    assert.ok(
      lines.includes('U__http_2e_server_2e_requests__total{U__http_2e_method="GET"} 3'),
      lines.join('\n'),
    );
    assert.equal(
      escapeName('http.server.requests_total', 'values'),
      'U__http_2e_server_2e_requests__total',
    );
    assert.equal(escapeName('a:b', 'underscores', true), 'a_b');
  });

  it('protobuf: UTF-8 names with escaping=allow-utf-8, escaped without', async () => {
    const get = await serve('NoUTF8EscapingWithSuffixes');
    const root = await protobuf.load(clientModelProto());
    const type = root.lookupType('io.prometheus.client.MetricFamily');
    const names = async (accept: string): Promise<Array<[string, string[]]>> => {
      const res = await get(accept);
      const reader = protobuf.Reader.create(Buffer.from(await res.arrayBuffer()));
      const out: Array<[string, string[]]> = [];
      while (reader.pos < reader.len) {
        const f = type.toObject(type.decodeDelimited(reader)) as {
          name: string;
          metric: Array<{ label?: Array<{ name: string }> }>;
        };
        out.push([f.name, f.metric.flatMap((m) => (m.label ?? []).map((l) => l.name))]);
      }
      return out;
    };
    assert.deepEqual(await names(PROTO_UTF8), [
      ['http.server.requests_total', ['http.method']],
      ['http.server.duration_seconds', ['http.method']],
    ]);
    assert.deepEqual(await names(PROTO), [
      ['http_server_requests_total', ['http_method']],
      ['http_server_duration_seconds', ['http_method']],
    ]);
  });

  it('a legacy profile refuses a strategy; an unknown strategy is a ConfigError naming it', () => {
    assert.throws(
      () =>
        new JobmeterReader({
          listener: false,
          profile: 'rm',
          translationStrategy: 'NoTranslation',
        }),
      (e: unknown) => e instanceof ConfigError && e.key === 'translationStrategy',
    );
    assert.throws(
      () =>
        new JobmeterReader({ listener: false, translationStrategy: 'Dots' as TranslationStrategy }),
      (e: unknown) =>
        e instanceof ConfigError && /one of UnderscoreEscapingWithSuffixes/.test(e.message),
    );
  });
});
