/**
 * The model-based fault test: random sequences of sender pushes (cumulative, delta, late and
 * retried windows, levels, histograms), sender restarts with the same and a new
 * `service.instance.id`, serve SIGTERM and SIGKILL restarts, a read-only state disk and back,
 * wall-clock steps both ways, token rotations by SIGHUP and pushes with a stale token, senders
 * silent past `expiry_ms`, and, where serve does not push, stretches with no scrape (no naming
 * pass) across the expiry, a restart and the state file's writes — against a real `jobmeter
 * serve`. Each sender exports over OTLP/HTTP or
 * OTLP/gRPC, its counter and histogram cumulative or delta, drawn per run, and with the other
 * transport and temporality after a reconfigured restart; the model is the same for both. After
 * every step each served ingested series must equal what the model (model.ts) says, no counter may
 * go back unless the model's did, and the self-telemetry and the pull endpoint's
 * `jobmeter_ingest_refused_total` must count every acceptance and refusal the model predicts.
 *
 * A fixed set of seeds, which together run every kind of step and change a histogram's temporality
 * both ways (about 3 minutes); `npm run soak -- --model` runs random ones for as long as asked. A
 * failure prints the steps and the seed that replays it.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import fc from 'fast-check';
import { killChildren } from '../cli/harness.ts';
import { senders, sendersFlags, SERVES, sequences, STEP_KINDS } from './commands.ts';
import { TRANSPORTS } from './system.ts';
import { TEMPORALITY_CHANGES, World } from './world.ts';

after(killChildren);

/**
 * Each serve (commands.ts {@link SERVES}, in order) with the seed it is driven by: together they
 * run every kind of step; those of the worlds that do not push, which wait and go stretches with no
 * scrape, are chosen short (38: two quiet stretches; 12: one, under solti), so the test takes about
 * as long as before they were added.
 */
const SEEDS = [38, 2, 3, 4, 5, 12].map((seed, i) => ({ seed, ...SERVES[i]! }));
const COMMANDS = 30;
/** Sequences per seed. */
const RUNS = 2;
const counts = new Map<string, number>();

for (const { seed, ...options } of SEEDS)
  it(
    `every value served and pushed equals the model's through a random sequence of faults (seed ${seed}${'profile' in options ? `, profile ${options.profile}` : ''}${'push' in options ? `, pushing to a Collector under ${options.push} naming` : ''}${'scopes' in options ? ', a scope per sender without scope labels' : ''})`,
    { timeout: 600_000 },
    async (t) => {
      let steps = 0;
      const changes = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(
          ...senders,
          sequences(COMMANDS, options),
          async (transports, temporalities, cmds) => {
            const world = await World.create({ ...options, transports, temporalities });
            try {
              await fc.asyncModelRun(() => ({ model: {}, real: world }), cmds);
            } catch (err) {
              throw new Error(
                `${(err as Error).message}\nsenders (replay: ${sendersFlags(transports, temporalities)})\nsteps:\n  ${world.log.join('\n  ')}`,
                { cause: err },
              );
            } finally {
              steps += world.log.length;
              for (const [k, n] of world.counts) counts.set(k, (counts.get(k) ?? 0) + n);
              for (const k of TEMPORALITY_CHANGES)
                changes.set(k, (changes.get(k) ?? 0) + (world.counts.get(k) ?? 0));
              await world.dispose();
            }
          },
        ),
        // A failure shrinks to a minimal sequence, within a bound: each try starts a serve.
        { seed, numRuns: RUNS, interruptAfterTimeLimit: 240_000, markInterruptAsFailure: true },
      );
      t.diagnostic(`${steps} steps; ${[...changes].map(([k, n]) => `${k}: ${n}`).join(', ')}`);
    },
  );

it("the seeds run every kind of step, export over both transports, and change a histogram sender's temporality both ways", () => {
  const never = [
    ...STEP_KINDS,
    ...TRANSPORTS.map((t) => `over ${t}`),
    ...TEMPORALITY_CHANGES,
  ].filter((k) => (counts.get(k) ?? 0) === 0);
  assert.deepEqual(never, [], `no seed ran ${never.join(', ')}: choose seeds that do`);
});
