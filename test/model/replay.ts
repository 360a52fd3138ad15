/**
 * Replays a sequence of steps the model-based fault test printed, against a fresh real serve:
 *
 *   node test/model/replay.ts [--profile solti] [--push profile|canonical] [--scopes per-sender]
 *     [--transports http,grpc]
 *     [--temporalities cumulative,delta] 'push(1, ["a"], 5, 97)' 'failDisk()' …
 *
 * Each step runs as in the test (keep-alive, the step, the check); the first difference from the
 * model throws with what differs. Exit 0: the sequence holds.
 */
import { parseArgs } from 'node:util';
import { killChildren } from '../cli/harness.ts';
import { replayStep } from './commands.ts';
import type { Temporality } from './model.ts';
import { TRANSPORTS, type Transport } from './system.ts';
import { World } from './world.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    profile: { type: 'string' },
    push: { type: 'string' },
    scopes: { type: 'string' },
    transports: { type: 'string', default: 'http,http' },
    temporalities: { type: 'string', default: 'cumulative,cumulative' },
  },
});
const transports = values.transports.split(',') as Transport[];
if (!transports.every((t) => (TRANSPORTS as readonly string[]).includes(t)))
  throw new Error(`--transports: each of ${TRANSPORTS.join(', ')}, one per sender`);
const world = await World.create({
  ...(values.profile === undefined ? {} : { profile: values.profile }),
  ...(values.push === undefined ? {} : { push: values.push as 'profile' | 'canonical' }),
  ...(values.scopes === 'per-sender' && { scopes: 'per-sender' as const }),
  transports,
  temporalities: values.temporalities.split(',') as Temporality[],
});
try {
  for (const step of positionals) {
    console.log(step);
    await replayStep(world, step);
  }
  console.log('the sequence holds');
} finally {
  await world.dispose();
  killChildren();
}
