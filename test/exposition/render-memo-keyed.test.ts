// RenderMemo (src/exposition/render-memo.ts) over keyed columns, as the naming stage gives
// them (render-model.ts `KeyedLabels`: series told apart by key, their label strings asked for one
// at a time): every rendering is byte for byte the ordinary one, and a label string is asked for
// only for a series the memo has not written yet, never for one it kept, changed value or not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RenderMemo } from '../../src/exposition/render-memo.ts';
import { render } from '../../src/exposition/render.ts';
import type {
  KeyedLabels,
  NumberColumns,
  RenderFamily,
} from '../../src/exposition/render-model.ts';
import type { Piece } from '../../src/exposition/samples.ts';
import { pieceBytes } from '../support/render-bytes.ts';

function body(pieces: Iterable<Piece | Uint8Array>): Buffer {
  const out: Buffer[] = [];
  for (const p of pieces) out.push(p instanceof Uint8Array ? Buffer.from(p) : pieceBytes(p));
  return Buffer.concat(out);
}

/** Values that fit single precision and ones that do not (the memo widens its kept values for them). */
const VALUES = [
  0,
  1,
  2,
  7,
  255,
  1023,
  1024,
  0.5,
  -3.25,
  16777217,
  0.1,
  1e21,
  1.5e-7,
  NaN,
  Infinity,
  -Infinity,
  123456.789,
];

/** One store set: keys appended, never moved; a label string per key, counted when asked for. */
class StoreSet {
  keys: object[] = [];
  labels: string[] = [];
  values: number[] = [];
  asked = 0;
  maker = {};

  add(labels: string, value: number): void {
    this.keys.push({});
    this.labels.push(labels);
    this.values.push(value);
  }

  /** A family of the first `n` series, keyed as the naming stage hands it over. */
  family(
    name: string,
    type: 'counter' | 'gauge' | 'info',
  ): { keyed: RenderFamily; plain: RenderFamily } {
    const n = this.values.length;
    const keyed: KeyedLabels = {
      keys: this.keys,
      maker: this.maker,
      at: (i) => {
        this.asked++;
        return this.labels[i]!;
      },
    };
    const columns: NumberColumns = {
      get labels(): readonly string[] {
        throw new Error('the memo reads keyed columns by key');
      },
      values: this.values.slice(0, n),
      keyed,
    };
    const labels = this.labels.slice(0, n);
    const values = this.values.slice(0, n);
    const series = labels.map((l, i) => ({ labels: l, value: values[i]! }));
    const head = { name, type, help: 'h', unit: '', ascii: true, series } as const;
    return { keyed: { ...head, columns }, plain: { ...head, columns: { labels, values } } };
  }
}

type Op = { kind: 'value' | 'many' | 'add' | 'long' | 'newSet'; at: number; pick: number };

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('value', 'value', 'many', 'add', 'add', 'long', 'newSet'),
  at: fc.nat(200),
  pick: fc.nat(1000),
});

for (const format of ['text', 'openmetrics'] as const) {
  test(`${format}: keyed families render as the plain ones, and only new series' label strings are asked for`, () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(opArb, { maxLength: 6 }), { minLength: 1, maxLength: 8 }),
        fc.constantFrom(64, 300, 65536),
        (rounds, chunk) => {
          const memo = new RenderMemo(format);
          const types = ['counter', 'gauge', 'info'] as const;
          let sets = types.map((_, f) => {
            const s = new StoreSet();
            for (let i = 0; i < 5 + f * 3; i++)
              s.add(`k="v${i}",f="${f}"`, VALUES[i % VALUES.length]!);
            return s;
          });
          /** Series each set had at the memo's last rendering, and whether that rendering saw this very set. */
          let written = sets.map(() => 0);
          for (const ops of [[], ...rounds]) {
            for (const op of ops) {
              const s = sets[op.pick % sets.length]!;
              const n = s.values.length;
              if (op.kind === 'value') s.values[op.at % n] = VALUES[op.pick % VALUES.length]!;
              else if (op.kind === 'many')
                for (let i = op.at % 3; i < n; i += 1 + (op.pick % 3))
                  s.values[i] = (s.values[i]! || 0) + 1;
              else if (op.kind === 'add')
                s.add(`k="n${n}-${op.pick}"`, VALUES[op.at % VALUES.length]!);
              else if (op.kind === 'long')
                s.add(`k="${'x'.repeat(250 + (op.at % 300))}${n}"`, op.pick);
              else {
                // The instrument's set replaced (another array of keys): nothing kept may be taken for it.
                const fresh = new StoreSet();
                for (let i = 0; i < n; i++) fresh.add(s.labels[i]!, s.values[i]!);
                sets = sets.map((x) => (x === s ? fresh : x));
                written = written.map((w, i) => (sets[i] === fresh ? 0 : w));
              }
            }
            for (const s of sets) s.asked = 0;
            const made = sets.map((s, f) =>
              s.family(`fam_${f}${types[f] === 'counter' ? '_total' : ''}`, types[f]!),
            );
            const got = body(
              memo.pieces(
                made.map((m) => m.keyed),
                chunk,
              ),
            );
            assert.deepEqual(
              got.toString('utf8'),
              render(
                format,
                made.map((m) => m.plain),
              ),
            );
            sets.forEach((s, f) =>
              assert.equal(
                s.asked,
                s.values.length - written[f]!,
                `family ${f}: strings asked for only for series new to the memo`,
              ),
            );
            written = sets.map((s) => s.values.length);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
}
