// Content negotiation: Accept → format, Accept-Encoding → gzip.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseEncoding,
  contentTypeOf,
  negotiate,
  type Negotiated,
} from '../../src/exposition/negotiate.ts';

/** The Accept header Prometheus 2.42 sends when scraping (scrape/scrape.go, acceptHeader). */
const PROMETHEUS_2_42 =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,' +
  'text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

describe('negotiate: the format', () => {
  const table: Array<[string | undefined, Negotiated['format']]> = [
    [PROMETHEUS_2_42, 'openmetrics'],
    // Prometheus 3 style: escaping parameters, and a text/plain version we do not speak.
    [
      'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,' +
        'application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,' +
        'text/plain;version=0.0.4;q=0.2,*/*;q=0.1',
      'openmetrics',
    ],
    ['text/plain;version=1.0.0;escaping=allow-utf-8,text/plain;version=0.0.4;q=0.5', 'text'],
    [undefined, 'text'],
    ['', 'text'],
    ['text/plain', 'text'],
    ['text/plain;version=0.0.4', 'text'],
    ['*/*', 'text'],
    ['garbage', 'text'],
    ['application/openmetrics-text', 'openmetrics'],
    ['application/openmetrics-text; version=1.0.0; charset=utf-8', 'openmetrics'],
    ['application/openmetrics-text;version=0.0.1', 'openmetrics'],
    ['application/openmetrics-text;version="1.0.0"', 'openmetrics'],
    ['Application/OpenMetrics-Text;Version=1.0.0', 'openmetrics'],
    ['application/openmetrics-text;version=1.0.0;q=0.1,text/plain;q=0.9', 'text'],
    ['text/plain;q=0.5,application/openmetrics-text;version=1.0.0;q=0.6', 'openmetrics'],
    // Version 2.0.0 is OpenMetrics 2.0.0.
    ['application/openmetrics-text;version=2.0.0,text/plain;q=0.5', 'openmetrics2'],
    ['application/openmetrics-text;version=2.0.0', 'openmetrics2'],
    // q=0 means "not acceptable".
    ['application/openmetrics-text;version=1.0.0;q=0', 'text'],
    ['application/openmetrics-text;q=0,*/*', 'text'],
    // Protobuf first, then OpenMetrics.
    [
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,' +
        'application/openmetrics-text;version=1.0.0;q=0.8',
      'protobuf',
    ],
    // Equal q: a specific range beats a wildcard; otherwise header order decides.
    ['*/*;q=0.5,application/openmetrics-text;q=0.5', 'openmetrics'],
    ['text/plain,application/openmetrics-text', 'text'],
    ['application/openmetrics-text,text/plain', 'openmetrics'],
  ];
  for (const [accept, expected] of table) {
    test(`${JSON.stringify(accept)} → ${expected}`, () => {
      assert.equal(negotiate(accept).format, expected);
    });
  }
});

describe('negotiate: version and escaping (content_negotiation.md)', () => {
  const P3 =
    'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.7,application/openmetrics-text;version=0.0.1;q=0.6,' +
    'text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.3';
  const table: Array<[string | undefined, string]> = [
    [
      PROMETHEUS_2_42,
      'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores',
    ],
    [P3, 'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8'],
    [
      'text/plain;version=1.0.0;escaping=allow-utf-8',
      'text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8',
    ],
    ['text/plain;version=1.0.0', 'text/plain; version=1.0.0; charset=utf-8; escaping=underscores'],
    [
      'text/plain;version=1.0.0;escaping=values',
      'text/plain; version=1.0.0; charset=utf-8; escaping=values',
    ],
    [
      'application/openmetrics-text;version=1.0.0;escaping=allow-utf8',
      'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8',
    ],
    [
      'application/openmetrics-text;version=1.0.0;ESCAPING="Underscores"',
      'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores',
    ],
    // dots would rewrite every underscore: passed over for the next preference.
    [
      'application/openmetrics-text;version=1.0.0;escaping=dots,text/plain;version=1.0.0;escaping=underscores;q=0.5',
      'text/plain; version=1.0.0; charset=utf-8; escaping=underscores',
    ],
    [
      'application/openmetrics-text;version=1.0.0;escaping=bogus',
      'text/plain; version=0.0.4; charset=utf-8',
    ],
    ['text/plain;version=0.0.4', 'text/plain; version=0.0.4; charset=utf-8'],
    [
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,application/openmetrics-text;version=1.0.0;q=0.6',
      'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited',
    ],
    // Another protobuf encoding (text) is not served: passed over.
    [
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text,text/plain;version=0.0.4;q=0.5',
      'text/plain; version=0.0.4; charset=utf-8',
    ],
    [undefined, 'text/plain; version=0.0.4; charset=utf-8'],
  ];
  for (const [accept, contentType] of table) {
    test(`${JSON.stringify(accept)} → ${contentType}`, () => {
      assert.equal(contentTypeOf(negotiate(accept)), contentType);
    });
  }

  test('a forced format: OpenMetrics takes the escaping of the OpenMetrics range accepted; text is 0.0.4', () => {
    assert.equal(
      contentTypeOf(negotiate(P3, 'openmetrics')),
      'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8',
    );
    assert.equal(
      contentTypeOf(negotiate('text/plain', 'openmetrics')),
      'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores',
    );
    assert.equal(contentTypeOf(negotiate(P3, 'text')), 'text/plain; version=0.0.4; charset=utf-8');
  });
});

describe('negotiate: OpenMetrics 2.0.0 only when a range names version=2.0.0', () => {
  /** What Prometheus 3.16 sends for `scrape_protocols: [OpenMetricsText2.0.0]` (scrape.go `acceptHeader`). */
  const P3_OM2 = 'application/openmetrics-text;version=2.0.0;escaping=allow-utf-8;q=0.7,*/*;q=0.6';
  const OM2 = 'application/openmetrics-text; version=2.0.0; charset=utf-8';
  const OM1 = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
  const table: Array<[string, string]> = [
    [P3_OM2, `${OM2}; escaping=allow-utf-8`],
    ['application/openmetrics-text;version=2.0.0', `${OM2}; escaping=underscores`],
    ['application/openmetrics-text;version="2.0.0";escaping=values', `${OM2}; escaping=values`],
    [
      'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=2.0.0;q=0.9',
      `${OM2}; escaping=underscores`,
    ],
    // Everything else as before: the spec's "MUST default to the oldest version" for a bare range.
    ['application/openmetrics-text', `${OM1}; escaping=underscores`],
    [
      'application/openmetrics-text;version=2.0.0;q=0.4,application/openmetrics-text;version=1.0.0;q=0.9',
      `${OM1}; escaping=underscores`,
    ],
    [PROMETHEUS_2_42, `${OM1}; escaping=underscores`],
    // An escaping not written is passed over, as for 1.0.0.
    [
      'application/openmetrics-text;version=2.0.0;escaping=dots,text/plain;q=0.5',
      'text/plain; version=0.0.4; charset=utf-8',
    ],
    ['application/openmetrics-text;version=3.0.0', 'text/plain; version=0.0.4; charset=utf-8'],
  ];
  for (const [accept, contentType] of table) {
    test(`${JSON.stringify(accept)} → ${contentType}`, () => {
      assert.equal(contentTypeOf(negotiate(accept)), contentType);
    });
  }

  test('a forced OpenMetrics is 1.0.0 whatever version is asked', () => {
    assert.equal(contentTypeOf(negotiate(P3_OM2, 'openmetrics')), `${OM1}; escaping=allow-utf-8`);
  });
});

describe('chooseEncoding', () => {
  const table: Array<[string | undefined, 'gzip' | 'zstd' | undefined]> = [
    [undefined, undefined],
    ['', undefined],
    ['gzip', 'gzip'],
    ['zstd', 'zstd'],
    ['gzip, zstd', 'gzip'],
    ['zstd, gzip', 'zstd'],
    ['gzip;q=0.5, zstd', 'zstd'],
    ['zstd;q=0.5, gzip', 'gzip'],
    ['zstd;q=0, gzip;q=0', undefined],
    ['zstd;q=0, *', 'gzip'],
    ['*', 'gzip'],
    ['*;q=0', undefined],
    ['identity', undefined],
    ['deflate, gzip, br, zstd', 'gzip'],
    ['x-gzip', 'gzip'],
    ['ZSTD;Q=1', 'zstd'],
    ['GZIP', 'gzip'],
    ['gzip, deflate, br', 'gzip'],
    ['deflate, br', undefined],
    ['gzip;q=0', undefined],
    ['gzip; q=0.0', undefined],
    ['gzip;q=0.001', 'gzip'],
    ['gzip;q=bogus', undefined],
    ['br, *;q=0.1', 'gzip'],
    // `*` takes zstd; gzip is refused.
    ['gzip;q=0, *', 'zstd'],
    ['*, gzip;q=0', 'zstd'],
  ];
  for (const [header, expected] of table) {
    test(`${JSON.stringify(header)} → ${expected}`, () =>
      assert.equal(chooseEncoding(header), expected));
  }
});
