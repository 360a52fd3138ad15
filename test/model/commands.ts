/**
 * The steps of the model-based fault test, as fast-check commands: each acts on the real serve and
 * the model together (world.ts), then scrapes and holds every served value to the model. A failing
 * sequence shrinks, and its commands print as the script that replays it (`toString`).
 */
import fc from 'fast-check';
import { KEYS, type Temporality } from './model.ts';
import { TRANSPORTS } from './system.ts';
import { TOKENS, World } from './world.ts';

export const SENDERS = 2;

/**
 * How each sender exports when a run starts, drawn per run: over OTLP/HTTP or OTLP/gRPC, and its
 * `model.events` and histogram cumulative or delta (a property's first two arbitraries).
 */
export const senders = [
  fc.array(fc.constantFrom(...TRANSPORTS), { minLength: SENDERS, maxLength: SENDERS }),
  fc.array(fc.constantFrom<Temporality>('cumulative', 'delta'), {
    minLength: SENDERS,
    maxLength: SENDERS,
  }),
] as const;

/** What {@link senders} drew, as replay.ts takes it. */
export const sendersFlags = (
  transports: readonly string[],
  temporalities: readonly string[],
): string => `--transports ${transports.join(',')} --temporalities ${temporalities.join(',')}`;

/**
 * The serves a sequence drives: the native profile alone, or pushing to a real Collector under a
 * legacy profile's naming, under canonical naming, and from the native profile.
 */
export const SERVES = [
  {},
  { profile: 'solti', push: 'profile' },
  { profile: 'solti', push: 'canonical' },
  { push: 'canonical' },
  { scopes: 'per-sender' },
] as const satisfies readonly {
  profile?: string;
  push?: 'profile' | 'canonical';
  scopes?: 'per-sender';
}[];

/** Each kind of step, by name: a run counts how often each ran (every one must, in `npm test`). */
export const STEP_KINDS = [
  'push',
  'retryDelta',
  'overlapDelta',
  'lateDeltas',
  'restartSender',
  'restartServe',
  'failDisk',
  'healDisk',
  'stepClock',
  'rotateToken',
  'staleToken',
  'silence',
  'flood',
] as const;
export type StepKind = (typeof STEP_KINDS)[number];

type Cmd = fc.AsyncCommand<object, World>;

/** One step: what it does to the world, and how it prints in a replay script. */
class Step implements Cmd {
  readonly kind: StepKind;
  private readonly script: string;
  private readonly act: (world: World) => Promise<void> | void;
  constructor(
    kind: StepKind,
    args: readonly unknown[],
    act: (world: World) => Promise<void> | void,
  ) {
    this.kind = kind;
    this.script = `${kind}(${args.map((a) => JSON.stringify(a)).join(', ')})`;
    this.act = act;
  }
  check(): boolean {
    return true;
  }
  async run(_: object, world: World): Promise<void> {
    world.counts.set(this.kind, (world.counts.get(this.kind) ?? 0) + 1);
    world.log.push(this.script);
    await world.keepAlive();
    await this.act(world);
    await world.check();
  }
  toString(): string {
    return this.script;
  }
}

/**
 * Runs one step as a replay script prints it (`push(1, ["a"], 5, 97)`, {@link Step}'s `toString`)
 * the way the test runs it: the keep-alive, the step, then every served value held to the model.
 */
export async function replayStep(world: World, step: string): Promise<void> {
  const m = /^(\w+)\((.*)\)$/s.exec(step.trim());
  if (m === null) throw new Error(`not a step: ${step}`);
  const act = (world as unknown as Record<string, (...args: unknown[]) => Promise<void> | void>)[
    m[1]!
  ];
  if (!(STEP_KINDS as readonly string[]).includes(m[1]!) || typeof act !== 'function')
    throw new Error(`no step named ${m[1]!}`);
  await world.keepAlive();
  await act.apply(world, JSON.parse(`[${m[2]!}]`) as unknown[]);
  await world.check();
}

const slot = fc.integer({ min: 0, max: SENDERS - 1 });
const keys = fc.subarray([...KEYS], { minLength: 1 });
const small = fc.integer({ min: 0, max: 9 });

const level = fc.integer({ min: 0, max: 99 });
const push = fc
  .tuple(slot, keys, small, level)
  .map(([s, k, a, l]) => new Step('push', [s, k, a, l], (w) => w.push(s, k, a, l)));

/** Every step, weighted: pushes most, the slow faults (restarts, silences) least. */
export const steps: fc.Arbitrary<Cmd>[] = [
  push,
  push,
  push,
  slot.map((s) => new Step('retryDelta', [s], (w) => w.retryDelta(s))),
  fc
    .tuple(slot, keys, small)
    .map(([s, k, a]) => new Step('overlapDelta', [s, k, a], (w) => w.overlapDelta(s, k, a))),
  fc
    .tuple(slot, keys, small, small)
    .map(([s, k, a, b]) => new Step('lateDeltas', [s, k, a, b], (w) => w.lateDeltas(s, k, a, b))),
  fc
    .tuple(slot, fc.boolean(), fc.boolean(), fc.boolean())
    .map(
      ([s, n, r, l]) => new Step('restartSender', [s, n, r, l], (w) => w.restartSender(s, n, r, l)),
    ),
  // A sender back with the other temporality alone: its series goes on from what it counted (a
  // new layout is refused while the other sender holds the series).
  slot.map(
    (s) =>
      new Step('restartSender', [s, false, true, false], (w) =>
        w.restartSender(s, false, true, false),
      ),
  ),
  fc
    .constantFrom<'SIGTERM' | 'SIGKILL'>('SIGTERM', 'SIGKILL')
    .map((sig) => new Step('restartServe', [sig], (w) => w.restartServe(sig))),
  fc
    .constantFrom<'read-only' | 'full'>('read-only', 'full')
    .map((how) => new Step('failDisk', [how], (w) => w.failDisk(how))),
  fc.constant(new Step('healDisk', [], (w) => w.healDisk())),
  fc
    .constantFrom(0, 300, -300, -1800, 4000)
    .map((s) => new Step('stepClock', [s], (w) => w.stepClock(s))),
  fc
    .tuple(fc.constantFrom(...TOKENS), fc.constantFrom<'SIGHUP' | 'endpoint'>('SIGHUP', 'endpoint'))
    .map(([t, via]) => new Step('rotateToken', [t, via], (w) => w.rotateToken(t, via))),
  slot.map((s) => new Step('staleToken', [s], (w) => w.staleToken(s))),
  slot.map((s) => new Step('silence', [s], (w) => w.silence(s))),
  fc
    .constantFrom<'one' | 'many'>('one', 'many')
    .map((a) => new Step('flood', [a], (w) => w.flood(a))),
];

export const sequences = (maxCommands: number) => fc.commands(steps, { maxCommands, size: 'max' });
