/**
 * The one identity of an attribute set: what makes two attribute sets the same series, whatever
 * their key order. Every engine that keys series by their attributes uses this function (the
 * open index of a host instrument, the series budget of an SDK instrument, the ingest's streams,
 * the cluster's report), so one set is one series everywhere.
 *
 * What must stay true: entries whose value is `undefined` or `null` are left out (the SDK does not
 * export them); keys are sorted; the form is JSON (a value that is an array keeps its elements,
 * and no value can forge a separator). The ingest's state file holds keys of this form
 * (ingest/checkpoint.ts): changing it means versioning that file.
 */
import type { Attributes } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';

export function attributeSetKey(attributes: Attributes): string {
  const keys = Object.keys(attributes);
  if (keys.length === 0) return '';
  if (keys.length > 1) keys.sort();
  const pairs: unknown[] = [];
  for (const k of keys) {
    const v = attributes[k];
    if (v !== undefined && v !== null) pairs.push([k, v]);
  }
  return pairs.length === 0 ? '' : JSON.stringify(pairs);
}

/**
 * The one identity of an instrumentation scope, as the SDK tells meters apart: its name, version
 * and schema URL, an absent one the same as an empty one.
 */
export function scopeKey(scope: InstrumentationScope): string {
  return `${scope.name}\0${scope.version ?? ''}\0${scope.schemaUrl ?? ''}`;
}
