/**
 * A cumulative counter stamped now, as an OTLP/JSON-shaped ExportMetricsServiceRequest: what a
 * daemon's SDK sends. `JSON.stringify` it for an OTLP/JSON body, or encode it with
 * otlp-receiver.ts `otlpMetricsSchema().request` for a protobuf one.
 */
export function counterRequest(
  name: string,
  value: number,
  options: { readonly service?: string; readonly points?: number } = {},
): object {
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceMetrics: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: options.service ?? 'go-daemon' } },
          ],
        },
        scopeMetrics: [
          {
            scope: { name: 'daemon' },
            metrics: [
              {
                name,
                sum: {
                  isMonotonic: true,
                  aggregationTemporality: 2,
                  // One point, or `points` of one series each (attribute `i`).
                  dataPoints: Array.from({ length: options.points ?? 1 }, (_, i) => ({
                    asInt: String(value),
                    ...(options.points !== undefined && {
                      attributes: [{ key: 'i', value: { intValue: String(i) } }],
                    }),
                    startTimeUnixNano: String(now - 1_000_000_000n),
                    timeUnixNano: String(now),
                  })),
                },
              },
            ],
          },
        ],
      },
    ],
  };
}
