/**
 * Length bounds on what a sender's request can make the ingest store keep. A request is at most
 * `maxBodyBytes` and dies with its handling; what outlives it — source-series keys, instrument
 * descriptors, scope names, attributes of output series — is cut or hashed here first, so a
 * multi-megabyte attribute value, resource attribute, metric name or description costs a bounded
 * number of bytes however often it is sent (docs/collector.md, "Limits").
 *
 * What must stay true: identity is never lost to a cut. Keys that tell source series apart are
 * hashed when long (SHA-256), not cut, so two huge values that share a prefix stay two streams
 * (two counters cut to one key would look like one counter resetting).
 */
import { createHash } from 'node:crypto';
import type { Attributes } from '@opentelemetry/api';
import { attributeSetKey } from '../series/attribute-key.ts';
import { setAttribute } from '../common/set-attribute.ts';

/** Longest metric name accepted (longer: refused). */
export const MAX_NAME_LENGTH = 255;
/** Longest unit accepted (longer: refused; the native profile puts the unit in the name). */
export const MAX_UNIT_LENGTH = 63;
/** Longest description kept; a longer one is cut with `…`. */
export const MAX_DESCRIPTION_LENGTH = 1_024;
/** Longest scope name or version kept; a longer one is cut with `…` (it is a label value). */
export const MAX_SCOPE_LENGTH = 256;
/** Longest attribute key kept; an attribute with a longer key is dropped. */
export const MAX_ATTRIBUTE_KEY_LENGTH = 255;
/** Attributes kept per point (the OpenTelemetry SDKs' default attribute count limit); the rest are dropped. */
export const MAX_ATTRIBUTES = 128;
/** Longest identity key kept as it is; a longer one is kept as its hash. */
export const MAX_KEY_LENGTH = 512;

/** An identity key of bounded length: as it is when short, its SHA-256 otherwise. */
export function compactKey(key: string): string {
  return key.length <= MAX_KEY_LENGTH
    ? key
    : '#' + createHash('sha256').update(key).digest('base64');
}

/**
 * A bounded key identifying an attribute set whatever its key order: the one identity
 * (series/attribute-key.ts), compacted. The state file holds it (checkpoint.ts): the sets
 * the ingest keeps have no undefined or null values, so it is the form that file always held.
 */
export function attributesKey(attributes: Attributes): string {
  return compactKey(attributeSetKey(attributes));
}

/** What {@link limitAttributes} dropped, for the sender's warning. */
export interface DroppedAttributes {
  emptyKeys: number;
  longKeys: number;
  pastCount: number;
}

/**
 * The attributes an output series may keep: keys longer than {@link MAX_ATTRIBUTE_KEY_LENGTH} and
 * empty keys dropped, at most {@link MAX_ATTRIBUTES} (in key order, so the choice does not depend
 * on the sender's order). Values are cut later, by the instrument's fold. Returns `attributes`
 * itself when nothing is dropped.
 */
export function limitAttributes(attributes: Attributes, dropped: DroppedAttributes): Attributes {
  const keys = Object.keys(attributes);
  let ok = keys.length <= MAX_ATTRIBUTES;
  for (const k of keys) if (k.length > MAX_ATTRIBUTE_KEY_LENGTH || k === '') ok = false;
  if (ok) return attributes;
  const out: Attributes = {};
  let kept = 0;
  for (const k of keys.sort()) {
    if (k.length > MAX_ATTRIBUTE_KEY_LENGTH || k === '') {
      if (k === '') dropped.emptyKeys++;
      else dropped.longKeys++;
      continue;
    }
    if (kept >= MAX_ATTRIBUTES) {
      dropped.pastCount++;
      continue;
    }
    setAttribute(out, k, attributes[k]);
    kept++;
  }
  return out;
}
