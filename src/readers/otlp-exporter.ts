/**
 * The OTLP/HTTP metric exporter of the push reader: the official one (`@opentelemetry/exporter-metrics-otlp-proto`
 * / `-http`), assembled from the same parts it is made of — its export delegate, its request
 * options, its self-metrics helper — with one part changed: the serializer, which also writes the
 * data points' trace-linked exemplars (otlp/push-serializer.ts). Retries, timeouts, compression,
 * headers and the environment variables it honours are the official exporter's.
 */
import {
  OTLPMetricExporterBase,
  type OTLPMetricExporterOptions,
} from '@opentelemetry/exporter-metrics-otlp-http';
import type { OtlpProtocol } from '../options.ts';
import {
  exporterRequire,
  pushSerializer,
  type MetricsSerializer,
} from '../otlp/push-serializer.ts';

/** The exporter packages' own `node-http` and transformer exports this file assembles (their types are not exported). */
interface Parts {
  convertLegacyHttpOptions(
    config: object,
    signal: string,
    path: string,
    headers: Record<string, string>,
  ): unknown;
  createOtlpHttpExportDelegate(
    options: unknown,
    serializer: MetricsSerializer,
    componentType: string,
    helper: unknown,
    meterProvider: undefined,
  ): ConstructorParameters<typeof OTLPMetricExporterBase>[0];
  helper: unknown;
}

const CONTENT_TYPE: Readonly<Record<OtlpProtocol, string>> = {
  'http/protobuf': 'application/x-protobuf',
  'http/json': 'application/json',
};
/** The official exporters' `otel.component.type` (the semantic conventions' value for both). */
const COMPONENT_TYPE = 'otlp_http_metric_exporter';

function partsFor(protocol: OtlpProtocol): Parts {
  const require = exporterRequire(protocol);
  // The releases the exporter package itself depends on.
  const base = require('@opentelemetry/otlp-exporter-base/node-http') as Omit<Parts, 'helper'>;
  const transformer = require('@opentelemetry/otlp-transformer') as {
    MetricsExporterMetricsHelper: unknown;
  };
  return {
    convertLegacyHttpOptions: base.convertLegacyHttpOptions,
    createOtlpHttpExportDelegate: base.createOtlpHttpExportDelegate,
    helper: transformer.MetricsExporterMetricsHelper,
  };
}

/** The official OTLP/HTTP metric exporter for `protocol`, writing exemplars too. */
export class OtlpMetricExporter extends OTLPMetricExporterBase {
  constructor(protocol: OtlpProtocol, config: OTLPMetricExporterOptions) {
    const parts = partsFor(protocol);
    const options = parts.convertLegacyHttpOptions(config, 'METRICS', 'v1/metrics', {
      'Content-Type': CONTENT_TYPE[protocol],
    });
    super(
      parts.createOtlpHttpExportDelegate(
        options,
        pushSerializer(protocol),
        COMPONENT_TYPE,
        parts.helper,
        undefined,
      ),
      config,
    );
  }
}
