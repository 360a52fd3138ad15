/**
 * Request bodies built byte by byte from the OTLP protos' field numbers, for the decode limits'
 * tests: shapes no SDK sends, which cost the decoder far more than their bytes.
 */
import { lengthDelimited } from '../support/otlp-protobuf-writer.ts';

/**
 * An ExportMetricsServiceRequest whose one metric, a Gauge named `g`, holds `points` empty
 * NumberDataPoints (the bytes `0a 00` repeated): 19 MB for 9.5M points, 1.8 KB
 * with zstd.
 */
export function emptyPointsRequest(points: number): Buffer {
  const bytes = Buffer.alloc(points * 2);
  for (let i = 0; i < bytes.length; i += 2) bytes[i] = 0x0a;
  const metric = lengthDelimited(2, [
    lengthDelimited(1, [Buffer.from('g')]),
    lengthDelimited(5, [bytes]),
  ]);
  return lengthDelimited(1, [lengthDelimited(2, [metric])]);
}
