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
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import { MetricsExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import type { OtlpProtocol } from '../options.ts';
import { pushSerializer } from '../otlp/push-serializer.ts';

const CONTENT_TYPE: Readonly<Record<OtlpProtocol, string>> = {
  'http/protobuf': 'application/x-protobuf',
  'http/json': 'application/json',
};
/** The official exporters' `otel.component.type` (the semantic conventions' value for both). */
const COMPONENT_TYPE = 'otlp_http_metric_exporter';

/** The official OTLP/HTTP metric exporter for `protocol`, writing exemplars too. */
export class OtlpMetricExporter extends OTLPMetricExporterBase {
  constructor(protocol: OtlpProtocol, config: OTLPMetricExporterOptions) {
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- what the official exporters call
    const options = convertLegacyHttpOptions(config, 'METRICS', 'v1/metrics', {
      'Content-Type': CONTENT_TYPE[protocol],
    });
    super(
      createOtlpHttpExportDelegate(
        options,
        pushSerializer(protocol),
        COMPONENT_TYPE,
        MetricsExporterMetricsHelper,
        undefined,
      ),
      config,
    );
  }
}
