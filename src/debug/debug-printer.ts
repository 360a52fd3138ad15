/**
 * `jobmeter serve --debug`: every OTLP request the ingest decodes and every OTLP export the push
 * reader sends, printed as the Collector's `debug` exporter prints them at `verbosity: normal`
 * (normal-text.ts), so an operator can diff what a daemon sent with what jobmeter passed on — or
 * either with a Collector's own debug output.
 *
 *   jobmeter: debug: received {"resource metrics": 1, "metrics": 2, "data points": 3} (OTLP/HTTP protobuf)
 *   ResourceMetrics #0 service.name=go-daemon
 *   ScopeMetrics #0 daemon@1.4.2
 *   jobmeter.run.finished{task=backup,outcome=success} 2
 *   …
 *   jobmeter: debug: pushed {"resource metrics": 1, "metrics": 5, "data points": 9} (OTLP/HTTP protobuf): delivered
 *   ResourceMetrics #0 service.name=jobmeter
 *   …
 *
 * A block is a header line (`jobmeter: debug: …`, with the counts of the exporter's own summary
 * line) and the text, written synchronously, one call per line, so blocks never interleave. The
 * received block says what the ingest refused (its `partial_success`); the pushed block is written
 * once the export has settled and says whether it was delivered, with the reason when it was not
 * (a status or error code only, as the push reader's own log lines).
 *
 * Never written: request or export headers, the endpoint's path, query or userinfo, any token.
 * The cost (a second decode of each received body, a second serialization of each export) is paid
 * only when debugging is on: without `debug`, no hook is installed.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { OtlpProtocol } from '../options.ts';
import type { OtlpEncoding, OtlpPartialSuccess } from '../otlp/types.ts';
import { describeError } from '../readers/resilient-exporter.ts';
import { normalText } from './normal-text.ts';
import { decodeWire, serializePush } from './wire.ts';
import { messageOf } from '../common/message-of.ts';

export const DEBUG_PREFIX = 'jobmeter: debug: ';

/**
 * @param write one call per line, without a trailing newline (the CLI: a line on stderr)
 * @param protocol the push reader's protocol, so pushes are serialized as they are sent
 */
export function createDebugPrinter(
  write: (line: string) => void,
  protocol: OtlpProtocol = 'http/protobuf',
) {
  const block = (header: string, lines: readonly string[]): void => {
    write(`${DEBUG_PREFIX}${header}`);
    for (const line of lines) write(line);
  };
  return {
    /** The ingest listener's `onRequest`: a decoded request body and what the store made of it. */
    received: (body: Uint8Array, encoding: OtlpEncoding, result: OtlpPartialSuccess): void => {
      let request: unknown;
      try {
        request = decodeWire(body, encoding);
      } catch (err) {
        block(`received a request that could not be printed: ${messageOf(err)}`, []);
        return;
      }
      const { lines, counts } = normalText(request);
      // The `partial_success` message (`1 data point rejected: …`, or a warning), if any.
      const refused = result.errorMessage === '' ? '' : `; ${result.errorMessage}`;
      block(`received ${summary(counts)} (OTLP/HTTP ${encoding})${refused}`, lines);
    },
    /**
     * The push reader's `onExport`: the collection about to be sent; the returned function prints
     * it once the export has settled.
     */
    pushed(resourceMetrics: ResourceMetrics): (result: ExportResult) => void {
      // Serialized now, as the exporter does: the collection is not kept past this call.
      let request: unknown;
      let failure: string | undefined;
      try {
        const { body, encoding } = serializePush(resourceMetrics, protocol);
        request = decodeWire(body, encoding);
      } catch (err) {
        failure = messageOf(err);
      }
      return (result) => {
        const outcome =
          result.code === ExportResultCode.SUCCESS
            ? 'delivered'
            : `not delivered (${describeError(result.error)})`;
        if (failure !== undefined)
          block(`pushed an export that could not be printed (${failure}): ${outcome}`, []);
        else {
          const { lines, counts } = normalText(request);
          const wire = protocol === 'http/json' ? 'OTLP/HTTP json' : 'OTLP/HTTP protobuf';
          block(`pushed ${summary(counts)} (${wire}): ${outcome}`, lines);
        }
      };
    },
  };
}

/** The debug exporter's summary fields: `{"resource metrics": 1, "metrics": 4, "data points": 6}`. */
function summary(c: ReturnType<typeof normalText>['counts']): string {
  return `{"resource metrics": ${c.resourceMetrics}, "metrics": ${c.metrics}, "data points": ${c.dataPoints}}`;
}
