/**
 * Request bodies built byte by byte from the OTLP protos' field numbers, for the decode limits'
 * tests: shapes no SDK sends, which cost the decoder far more than their bytes.
 */

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A length-delimited field `field`: its tag, its length, then the parts' bytes. */
export function lengthDelimited(field: number, parts: readonly Uint8Array[]): Buffer {
  const length = parts.reduce((n, p) => n + p.length, 0);
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(length)]), ...parts]);
}

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
