/**
 * The steps of the model-based fault test, as fast-check commands: each acts on the real serve and
 * the model together (world.ts), then scrapes and holds every served value to the model. A failing
 * sequence shrinks, and its commands print as the script that replays it (`toString`).
 */
import fc from 'fast-check';
import { KEYS, type Temporality } from './model.ts';
import { EXPIRY_MS, TRANSPORTS } from './system.ts';
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
 * legacy profile's naming, under canonical naming, and from the native profile; each sender under
 * a scope of its own, merged by the native naming without scope labels, and by a legacy profile's
 * (solti: its carry, series/carry.ts, adds the senders' series of a label set). Only a serve that
 * does not push goes a while with no naming pass (a push names every interval): a world without
 * a Collector, whose steps may leave their scrape out (`unscraped`).
 */
export const SERVES = [
  {},
  { profile: 'solti', push: 'profile' },
  { profile: 'solti', push: 'canonical' },
  { push: 'canonical' },
  { scopes: 'per-sender' },
  { profile: 'solti', scopes: 'per-sender' },
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
  'wait',
  'checkpoint',
] as const;
export type StepKind = (typeof STEP_KINDS)[number];

type Cmd = fc.AsyncCommand<object, World>;

/** One step: what it does to the world, and how it prints in a replay script. */
class Step implements Cmd {
  readonly kind: StepKind;
  private readonly script: string;
  private readonly args: readonly unknown[];
  private readonly act: (world: World) => Promise<void> | void;
  /** Whether the step ends with its scrape (the check); an `unscraped` one leaves it to a later. */
  private readonly scrapes: boolean;
  constructor(
    kind: StepKind,
    args: readonly unknown[],
    act: (world: World) => Promise<void> | void,
    scrapes = true,
  ) {
    this.kind = kind;
    const call = `${kind}(${args.map((a) => JSON.stringify(a)).join(', ')})`;
    this.script = scrapes ? call : `${call} ${UNSCRAPED}`;
    this.args = args;
    this.act = act;
    this.scrapes = scrapes;
  }
  check(): boolean {
    return true;
  }
  async run(_: object, world: World): Promise<void> {
    world.counts.set(this.kind, (world.counts.get(this.kind) ?? 0) + 1);
    if (!this.scrapes) world.counts.set(UNSCRAPED, (world.counts.get(UNSCRAPED) ?? 0) + 1);
    world.log.push(this.script);
    await runStep(world, this.scrapes, this.act);
  }
  toString(): string {
    return this.script;
  }
  /** This step, ending with its scrape. */
  scraped(): Step {
    return this.scrapes ? this : new Step(this.kind, this.args, this.act);
  }
}

/** A step's script ends so when it leaves its scrape out (no naming pass after it). */
export const UNSCRAPED = 'unscraped';

/** The keep-alive, the step, then (`scraped`) every served value held to the model. */
async function runStep(
  world: World,
  scraped: boolean,
  act: (world: World) => Promise<void> | void,
): Promise<void> {
  await world.keepAlive();
  world.unscraped = !scraped;
  try {
    await act(world);
  } finally {
    world.unscraped = false;
  }
  if (scraped) await world.check();
}

/**
 * Runs one step as a replay script prints it (`push(1, ["a"], 5, 97)`, {@link Step}'s `toString`)
 * the way the test runs it: the keep-alive, the step, then every served value held to the model.
 */
export async function replayStep(world: World, step: string): Promise<void> {
  const m = new RegExp(`^(\\w+)\\((.*)\\)( ${UNSCRAPED})?$`, 's').exec(step.trim());
  if (m === null) throw new Error(`not a step: ${step}`);
  const act = (world as unknown as Record<string, (...args: unknown[]) => Promise<void> | void>)[
    m[1]!
  ];
  if (!(STEP_KINDS as readonly string[]).includes(m[1]!) || typeof act !== 'function')
    throw new Error(`no step named ${m[1]!}`);
  await runStep(world, m[3] === undefined, (w) =>
    act.apply(w, JSON.parse(`[${m[2]!}]`) as unknown[]),
  );
}

const slot = fc.integer({ min: 0, max: SENDERS - 1 });
const keys = fc.subarray([...KEYS], { minLength: 1 });
const small = fc.integer({ min: 0, max: 9 });
/**
 * Whether a step ends with its scrape: one in two of the steps that may leave it out do, so a
 * world that does not push goes whole stretches with no naming pass (see {@link SERVES}): a
 * sender's series made, expired or restored dormant and gone before any pass named it, the state
 * file written (every CHECKPOINT_INTERVAL_MILLIS, and at the scrape that ends the stretch between
 * its sweep and its naming pass) and then a restart.
 */
const scrapedOrNot = fc.boolean();

const level = fc.integer({ min: 0, max: 99 });

/** A stretch as long as the expiry and its margin: a source silent through it has expired. */
const PAST_EXPIRY_MS = EXPIRY_MS + 3500;

/**
 * Several steps as one command: each as a step of its own (its script printed, and replayed, as
 * one), the stretch counted as `stretch`.
 */
class Stretch implements Cmd {
  private readonly steps: readonly Step[];
  constructor(steps: readonly Step[]) {
    this.steps = steps;
  }
  check(): boolean {
    return true;
  }
  async run(model: object, world: World): Promise<void> {
    world.counts.set(STRETCH, (world.counts.get(STRETCH) ?? 0) + 1);
    for (const step of this.steps) await step.run(model, world);
  }
  toString(): string {
    return this.steps.map(String).join(',');
  }
}

/** How a run counts its {@link quietStretch}es. */
export const STRETCH = 'stretch';

/**
 * Every step, weighted: pushes most, the slow faults (restarts, silences) least. `quiet`: a world
 * that goes stretches with no naming pass (one that does not push, {@link SERVES}), whose steps may
 * leave their scrape out, with time passing and the state file written unscraped, and quiet
 * stretches; a world that pushes names every interval, and scrapes after every step.
 */
function stepsOf(quiet: boolean): fc.Arbitrary<Cmd>[] {
  const scraped = quiet ? scrapedOrNot : fc.constant(true);
  const push = fc
    .tuple(slot, keys, small, level, scraped)
    .map(([s, k, a, l, sc]) => new Step('push', [s, k, a, l], (w) => w.push(s, k, a, l), sc));
  return [
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
      .tuple(slot, fc.boolean(), fc.boolean(), fc.boolean(), scraped)
      .map(
        ([s, n, r, l, sc]) =>
          new Step('restartSender', [s, n, r, l], (w) => w.restartSender(s, n, r, l), sc),
      ),
    // A sender back with the other temporality alone: its series goes on from what it counted (a
    // new layout is refused while the other sender holds the series).
    slot.map(
      (s) =>
        new Step('restartSender', [s, false, true, false], (w) =>
          w.restartSender(s, false, true, false),
        ),
    ),
    // Down for a moment, or past the expiry: every source restored dormant, its sender silent since
    // the file's point as far as serve can know, until its sender pushes again.
    fc
      .tuple(
        fc.constantFrom<'SIGTERM' | 'SIGKILL'>('SIGTERM', 'SIGKILL'),
        fc.constantFrom(0, 0, EXPIRY_MS),
        scraped,
      )
      .map(
        ([sig, down, sc]) =>
          new Step(
            'restartServe',
            down === 0 ? [sig] : [sig, down],
            (w) => w.restartServe(sig, down),
            sc,
          ),
      ),
    fc
      .constantFrom<'read-only' | 'full'>('read-only', 'full')
      .map((how) => new Step('failDisk', [how], (w) => w.failDisk(how))),
    fc.constant(new Step('healDisk', [], (w) => w.healDisk())),
    fc
      .constantFrom(0, 300, -300, -1800, 4000)
      .map((s) => new Step('stepClock', [s], (w) => w.stepClock(s))),
    fc
      .tuple(
        fc.constantFrom(...TOKENS),
        fc.constantFrom<'SIGHUP' | 'endpoint'>('SIGHUP', 'endpoint'),
      )
      .map(([t, via]) => new Step('rotateToken', [t, via], (w) => w.rotateToken(t, via))),
    slot.map((s) => new Step('staleToken', [s], (w) => w.staleToken(s))),
    // Silent past the expiry, or silent from now on while the step goes on a moment or not at all
    // (its series expire later, or are dormant after a restart that is down past the expiry).
    fc
      .tuple(slot, fc.constantFrom(undefined, 0, EXPIRY_MS / 2), scraped)
      .map(
        ([s, ms, sc]) =>
          new Step('silence', ms === undefined ? [s] : [s, ms], (w) => w.silence(s, ms), sc),
      ),
    fc
      .constantFrom<'one' | 'many'>('one', 'many')
      .map((a) => new Step('flood', [a], (w) => w.flood(a))),
    ...(quiet
      ? [
          // Time passes with no scrape (the senders not silenced keep pushing): a moment, or the
          // expiry; the state file written by serve's interval.
          fc
            .tuple(fc.constantFrom(EXPIRY_MS / 2, PAST_EXPIRY_MS), scraped)
            .map(([ms, sc]) => new Step('wait', [ms], (w) => w.wait(ms), sc)),
          scraped.map((sc) => new Step('checkpoint', [], (w) => w.checkpoint(), sc)),
          quietStretch(),
          quietStretch(),
        ]
      : []),
  ];
}

/**
 * A sender goes quiet in a stretch with no naming pass (see {@link scrapedOrNot}): it pushes first
 * or not (a series of it no pass has named, when its series are new), goes silent, and then, each
 * or not, serve restarts (down past the expiry: every source restored dormant), and, in either
 * order, the state file is written by serve's interval and time passes (a moment, or the expiry:
 * its series expire, or its dormant ones go unwoken, before any pass; written after, what left is
 * in the file no pass has counted). The stretch ends with a scrape (whose write falls between its
 * sweep and its naming pass), perhaps a restart right after it; or with a restart before any
 * scrape, so what the stretch's writes hold is all the restarted serve has.
 */
const quietStretch = (): fc.Arbitrary<Cmd> =>
  slot.chain((s) =>
    fc
      .tuple(
        fc.array(fc.tuple(keys, small, level), { maxLength: 2 }),
        fc.option(
          fc.tuple(
            fc.constantFrom<'SIGTERM' | 'SIGKILL'>('SIGTERM', 'SIGKILL'),
            fc.constantFrom(0, EXPIRY_MS),
          ),
        ),
        fc.boolean(),
        fc.constantFrom(undefined, EXPIRY_MS / 2, PAST_EXPIRY_MS),
        fc.option(fc.constantFrom<'SIGTERM' | 'SIGKILL'>('SIGTERM', 'SIGKILL')),
        // Whether time passes before the write, and the closing restart comes before the scrape.
        fc.boolean(),
        fc.boolean(),
      )
      .map(([pushes, restart, checkpoint, ms, after, waitFirst, unscrapedRestart]) => {
        const quiet: Step[] = [
          ...pushes.map(
            ([k, a, l]) => new Step('push', [s, k, a, l], (w) => w.push(s, k, a, l), false),
          ),
          new Step('silence', [s, 0], (w) => w.silence(s, 0), false),
        ];
        if (restart !== null) {
          const [sig, down] = restart;
          const args = down === 0 ? [sig] : [sig, down];
          quiet.push(new Step('restartServe', args, (w) => w.restartServe(sig, down), false));
        }
        const written = checkpoint
          ? [new Step('checkpoint', [], (w) => w.checkpoint(), false)]
          : [];
        const waited = ms === undefined ? [] : [new Step('wait', [ms], (w) => w.wait(ms), false)];
        quiet.push(...(waitFirst ? [...waited, ...written] : [...written, ...waited]));
        const closing = (scraped: boolean): Step =>
          new Step('restartServe', [after!], (w) => w.restartServe(after!), scraped);
        if (after !== null && unscrapedRestart) quiet.push(closing(false));
        // The stretch's scrape: its last step's (none: the silence's, a moment on).
        const last = quiet.pop()!;
        quiet.push(last.scraped());
        if (after !== null && !unscrapedRestart) quiet.push(closing(true));
        return new Stretch(quiet);
      }),
  );

/** The sequences of steps a world drives: `serve` (one of {@link SERVES}) says which, {@link stepsOf}. */
export const sequences = (maxCommands: number, serve: (typeof SERVES)[number]) =>
  fc.commands(stepsOf(!('push' in serve)), { maxCommands, size: 'max' });
