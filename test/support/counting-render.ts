/**
 * A LabelRender for store tests: renders one attribute as `key="value"` and counts its calls, so
 * a test can tell whether the store made a label string again or kept it.
 */
import type { Attributes } from '@opentelemetry/api';
import type { LabelRender } from '../../src/series/collection.ts';

export function countingRender(key: string): LabelRender & { calls: number } {
  const r = {
    calls: 0,
    render(a: Attributes) {
      r.calls++;
      return `${key}="${String(a[key])}"`;
    },
    isAscii: (s: string) => !/[^\x00-\x7f]/.test(s),
  };
  return r;
}
