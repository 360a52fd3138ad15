/**
 * The model soak's findings (`npm run soak -- --model`, docs/collector.md "The model soak") that
 * the fixed seeds of model-fault.test.ts do not reach, each replayed as its shrunk sequence against
 * a real `jobmeter serve` the way that test runs a step (commands.ts `replayStep`: the step, then
 * every served value held to the model). A finding whose sequence replays deterministically
 * belongs here once its fix lands, so the fault test's net keeps what the soak caught.
 */
import { after, it } from 'node:test';
import { killChildren } from '../cli/harness.ts';
import { replayStep } from './commands.ts';
import type { Temporality } from './model.ts';
import type { Transport } from './system.ts';
import { World } from './world.ts';

after(killChildren);

interface Finding {
  /** What serve did wrong, and the seed that found it. */
  readonly title: string;
  readonly transports: readonly [Transport, Transport];
  readonly temporalities: readonly [Temporality, Temporality];
  /** The shrunk sequence, as soak-model.ts prints it for replay.ts. */
  readonly steps: readonly string[];
}

const FINDINGS: readonly Finding[] = [
  {
    title:
      'after a restart, a source that expired while another sender kept its series comes back with its unchanged total and is not counted twice (seed 2019)',
    transports: ['http', 'http'],
    temporalities: ['cumulative', 'cumulative'],
    steps: [
      'push(0, ["a"], 1, 1)',
      'push(1, ["a"], 1, 1)',
      'silence(0)',
      'restartServe("SIGTERM")',
      'push(0, ["a"], 0, 1)',
    ],
  },
  {
    title:
      'a histogram sender that turns from delta to cumulative keeps what its windows counted (seed 2848: stream-rules.ts endWindows; the count served 10 where 11 were counted)',
    transports: ['http', 'http'],
    temporalities: ['cumulative', 'cumulative'],
    steps: [
      'restartSender(0, false, true, false)',
      'flood("many")',
      'restartSender(0, false, true, false)',
      'push(0, ["a","b"], 9, 28)',
    ],
  },
];

for (const { title, transports, temporalities, steps } of FINDINGS)
  it(title, { timeout: 120_000 }, async () => {
    const world = await World.create({ transports, temporalities });
    try {
      for (const step of steps) await replayStep(world, step);
    } finally {
      await world.dispose();
    }
  });
