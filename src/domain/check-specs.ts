/**
 * The instrument specs a host declares (`options.instruments` of createJobmeter, createRecorder
 * and jobmeterViews), checked once where they come in, so a bad one is a ConfigError naming it and
 * the recording path may take every spec as well formed.
 */
import { bool, list, oneOfRule, positiveInteger } from '../common/option-rules.ts';
import { ConfigError } from '../errors.ts';
import {
  INSTRUMENT_TYPE_OF,
  isObserved,
  type DeclaredInstrumentSpec,
  type InstrumentSpec,
} from './types.ts';

/**
 * Whether `bounds` are histogram bucket bounds: finite and strictly increasing. Out of order, a
 * bucket's count would be wrong (a value goes to the first bound at or above it). The one rule for
 * declared specs and `[[views]]` boundaries alike.
 */
export function isBucketBounds(bounds: unknown): bounds is readonly number[] {
  return (
    Array.isArray(bounds) &&
    bounds.every((b, k, all) => Number.isFinite(b) && (k === 0 || b > all[k - 1]))
  );
}

/**
 * `specs` if each is usable, each with its `attributes` (left out: none).
 * @throws ConfigError naming the spec (`instruments[2].kind`) and what it needs.
 */
export function checkInstrumentSpecs(
  specs: readonly DeclaredInstrumentSpec[],
): readonly InstrumentSpec[] {
  return list(specs, 'instruments', 'instrument specs').map((spec, i) => {
    const at = `instruments[${i}]`;
    if (typeof spec !== 'object' || spec === null)
      throw new ConfigError(
        at,
        spec,
        'an instrument spec { name, kind, unit, description, attributes? }',
      );
    if (typeof spec.name !== 'string' || spec.name.trim() === '')
      throw new ConfigError(`${at}.name`, spec.name, 'a non-empty instrument name');
    oneOfRule(Object.keys(INSTRUMENT_TYPE_OF))(spec.kind, `${at}.kind`);
    // The pull endpoint names a family from the unit and writes the description as its HELP: a
    // spec without either would fail every scrape, long after this call.
    if (typeof spec.unit !== 'string')
      throw new ConfigError(`${at}.unit`, spec.unit, "a UCUM unit string ('s', '{job}', '1')");
    if (typeof spec.description !== 'string')
      throw new ConfigError(`${at}.description`, spec.description, 'a description string');
    if (spec.buckets !== undefined && !isBucketBounds(spec.buckets))
      throw new ConfigError(
        `${at}.buckets`,
        spec.buckets,
        'finite bucket bounds in strictly increasing order (e.g. [0.1, 0.5, 1, 5])',
      );
    if (spec.exemplars !== undefined) bool(spec.exemplars, `${at}.exemplars`);
    if (spec.attributes === undefined) return { ...spec, attributes: [] };
    list(spec.attributes, `${at}.attributes`, 'attribute specs { key, values or cap }').forEach(
      (a, j) => {
        const attr = `${at}.attributes[${j}]`;
        if (typeof a?.key !== 'string' || a.key === '')
          throw new ConfigError(`${attr}.key`, a?.key, 'a non-empty attribute key');
        if (a.outside !== undefined) oneOfRule(['other', 'drop'])(a.outside, `${attr}.outside`);
        // Only an observation is left out (observed-instruments.ts): a record folds into `other`.
        if (a.outside === 'drop' && !isObserved(spec.kind))
          throw new ConfigError(
            `${attr}.outside`,
            a.outside,
            `other on a ${spec.kind} (drop leaves out an observation: an observable instrument's)`,
          );
        if (a.values !== undefined)
          list(a.values, `${attr}.values`, 'strings (the closed vocabulary)');
        else if (a.cap !== undefined) positiveInteger(a.cap, `${attr}.cap`);
        else
          throw new ConfigError(
            attr,
            a,
            'values (a closed vocabulary) or cap (how many values an open one keeps)',
          );
      },
    );
    return spec as InstrumentSpec;
  });
}
