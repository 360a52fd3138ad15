/**
 * How much a request may make the decoders build, counted while they build it. A body's bytes do
 * not bound what decoding them costs: two bytes (`0a 00`) are an empty data point, an object of
 * ~160 bytes once decoded, and a 20 MiB body of them is ten million objects. So each element the
 * decoders make — resource, scope, metric, data point, attribute, AnyValue element, bucket value,
 * and for JSON each object, array and member `JSON.parse` would make — is charged an estimate of
 * what it costs on the heap ({@link DECODE_COST}, erring high), and the sum must stay within
 *
 *     min(capBytes, perBodyByte × bytes read so far + slackBytes)
 *
 * Past it the request is refused ({@link DecodeLimitExceeded}, a 413) before the element is made.
 * The running bound refuses a degenerate shape within its first megabytes, wherever it starts; the
 * cap bounds the decoder's memory whatever the body. Strings and byte values are not charged: their
 * size is the bytes they came from.
 *
 * What must stay true: every request an SDK or the Collector sends up to `max_body_bytes` passes.
 * The densest real shapes cost about 10 per body byte in protobuf (points with a time and a value,
 * no attributes: ~20 bytes each; exponential histograms of one-byte bucket counts), 2–6 in JSON;
 * a max-size protobuf request (~1M points) about 160 MiB of the 256 MiB cap at the default
 * `max_body_bytes` (test/ingest/decode-limits.test.ts pins both).
 */
import { OPTION_DEFAULTS } from '../common/option-defaults.ts';
import { OtlpDecodeError } from './types.ts';

/** Estimated heap bytes per element made (V8 without pointer compression), erring high. */
export const DECODE_COST = {
  resource: 256,
  scope: 256,
  metric: 256,
  /** The point object, its attributes object, its times. */
  point: 160,
  /** One attribute (KeyValue) or key-value list entry: a property and its value's slot. */
  attribute: 64,
  /** One element of an AnyValue array: its slot, and its text once the array is made JSON. */
  element: 40,
  /** One histogram bucket count or bound: an array slot. */
  bucket: 8,
  /** JSON, before `JSON.parse`: an object or array. */
  container: 64,
  /** JSON, before `JSON.parse`: a member or element more (a `,` or `:`). */
  member: 16,
} as const;

export type DecodeCostKind = keyof typeof DECODE_COST;

export interface DecodeLimits {
  /** Estimated decoded bytes a request may cost at most, whatever its size. */
  readonly capBytes: number;
  /** Estimated decoded bytes allowed per body byte read so far. */
  readonly perBodyByte: number;
  /** Estimated decoded bytes allowed beyond that (small requests, an envelope before its points). */
  readonly slackBytes: number;
}

/** Per body byte; denser real shapes cost ≤ 10 (see the file's comment). */
export const DECODED_BYTES_PER_BODY_BYTE = 16;

/**
 * Deepest nesting of JSON objects and arrays inside a body's outer object: the Collector's JSON
 * reader (json-iterator) refuses a body past it ("exceeded max depth"), unknown fields included
 * (measured against 0.155: 10,000 arrays in the request object are read, 10,001 refused).
 */
export const MAX_JSON_DEPTH = 10_000;
const MiB = 1024 * 1024;

/**
 * The limits for bodies of at most `maxBodyBytes` (decompressed): a cap of 12 × that + 16 MiB
 * (256 MiB at the default 20 MiB), so a larger `max_body_bytes` admits proportionally more.
 */
export function decodeLimitsFor(maxBodyBytes: number): DecodeLimits {
  return {
    capBytes: 12 * maxBodyBytes + 16 * MiB,
    perBodyByte: DECODED_BYTES_PER_BODY_BYTE,
    slackBytes: MiB,
  };
}

/** The limits at the default `max_body_bytes`. */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = decodeLimitsFor(
  OPTION_DEFAULTS.ingest.maxBodyBytes,
);

/** A body that would decode to more than its {@link DecodeLimits}: answered 413. */
export class DecodeLimitExceeded extends OtlpDecodeError {
  override name = 'DecodeLimitExceeded';
}

/** The running count of one request's decoding; one per request, used on one thread. */
export class DecodeMeter {
  readonly #limits: DecodeLimits;
  readonly #bodyBytes: number;
  #spent = 0;
  /** The position every charge is at least at (see {@link readAll}). */
  #read = 0;
  readonly #counts = Object.fromEntries(Object.keys(DECODE_COST).map((k) => [k, 0])) as Record<
    DecodeCostKind,
    number
  >;

  constructor(bodyBytes: number, limits: DecodeLimits) {
    this.#bodyBytes = bodyBytes;
    this.#limits = limits;
  }

  /**
   * The whole body is read: later charges are at its end, whatever position they give (the
   * positions of bytes made from the body, as normalize.ts makes protobuf of OTLP/JSON).
   */
  readAll(): void {
    this.#read = this.#bodyBytes;
  }

  /**
   * Charges `n` elements of `kind`, about to be made with `position` body bytes read (the whole
   * body when the decoder cannot tell).
   * @throws {DecodeLimitExceeded} when the sum passes the limit there.
   */
  charge(kind: DecodeCostKind, position: number, n = 1): void {
    const at = Math.max(position, this.#read);
    this.#counts[kind] += n;
    this.#spent += DECODE_COST[kind] * n;
    if (
      this.#spent > this.#limits.capBytes ||
      this.#spent > this.#limits.perBodyByte * at + this.#limits.slackBytes
    )
      this.#refuse(at);
  }

  /**
   * JSON before `JSON.parse`: charges the containers and members of `text` (UTF-8), outside
   * strings, checking as it goes, up to the end of its first object or array, which it returns
   * (`text.length` when there is none). The request is that value: the Collector reads one and
   * leaves whatever follows it unread, so that is neither charged nor parsed. A tight byte loop;
   * it does not validate the JSON, but refuses one nested deeper than {@link MAX_JSON_DEPTH}.
   * @throws {DecodeLimitExceeded}
   * @throws {OtlpDecodeError} past {@link MAX_JSON_DEPTH}
   */
  scanJson(text: Uint8Array): number {
    const { capBytes, perBodyByte, slackBytes } = this.#limits;
    let spent = this.#spent;
    let containers = 0;
    let members = 0;
    let inString = false;
    let depth = 0;
    let end = text.length;
    let over = -1;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (inString) {
        if (c === 0x5c)
          i++; // backslash: the next byte is escaped
        else if (c === 0x22) inString = false;
        continue;
      }
      if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) {
        containers++;
        spent += DECODE_COST.container;
        // `depth` counts the outer object too.
        if (++depth > MAX_JSON_DEPTH + 1)
          throw new OtlpDecodeError(
            `invalid JSON: objects and arrays nested deeper than ${MAX_JSON_DEPTH} levels at byte ${i}`,
          );
      } else if (c === 0x7d || c === 0x5d) {
        if (--depth === 0) {
          end = i + 1;
          break;
        }
        continue;
      } else if (c === 0x2c || c === 0x3a) {
        members++;
        spent += DECODE_COST.member;
      } else continue;
      if (spent > capBytes || spent > perBodyByte * i + slackBytes) {
        over = i;
        break;
      }
    }
    this.#counts.container += containers;
    this.#counts.member += members;
    this.#spent = spent;
    if (over >= 0) this.#refuse(over);
    return end;
  }

  #refuse(at: number): never {
    const c = this.#counts;
    const made = [
      c.point > 0 ? `${c.point} data points` : '',
      c.attribute > 0 ? `${c.attribute} attributes` : '',
      c.element > 0 ? `${c.element} attribute value elements` : '',
      c.bucket > 0 ? `${c.bucket} bucket values` : '',
      c.container > 0 ? `${c.container} JSON objects and arrays` : '',
      c.member > 0 ? `${c.member} JSON members` : '',
      c.metric > 0 ? `${c.metric} metrics` : '',
      c.scope + c.resource > 0 ? `${c.resource} resources, ${c.scope} scopes` : '',
    ].filter((s) => s !== '');
    const { capBytes, perBodyByte, slackBytes } = this.#limits;
    const limit = Math.min(capBytes, perBodyByte * at + slackBytes);
    throw new DecodeLimitExceeded(
      `request too large to decode: ${made.join(', ')} in the first ${at} of ${this.#bodyBytes} bytes ` +
        `would take over ${limit} bytes (decode limit: ${perBodyByte} bytes per body byte + ${slackBytes}, at most ${capBytes})`,
    );
  }
}
