/**
 * The spans of a native histogram's buckets, shared by the writers that carry native buckets
 * (protobuf.ts, openmetrics2.ts; both loaded only when a scrape asks for them).
 */

/**
 * The runs of `counts` a span each covers, as `[first, last]` positions: zeros kept inside a span,
 * leading and trailing ones left out, a run of more than two zeros splitting it (client_golang's
 * rule). A span's offset is `offset + first` for the first and the gap after the previous span
 * (`first - previous last - 1`) for the others.
 */
export function spansOf(counts: readonly number[]): Array<readonly [number, number]> {
  const spans: Array<readonly [number, number]> = [];
  let k = 0;
  while (k < counts.length) {
    if (counts[k] === 0) {
      k++;
      continue;
    }
    let end = k;
    let zeros = 0;
    for (let j = k + 1; j < counts.length; j++) {
      if (counts[j] === 0) {
        if (++zeros > 2) break;
      } else {
        zeros = 0;
        end = j;
      }
    }
    spans.push([k, end]);
    k = end + 1;
  }
  return spans;
}
