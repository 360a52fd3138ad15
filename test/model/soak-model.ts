/**
 * `npm run soak -- --model --minutes N [--seed S] [--commands C]`: the model-based fault test
 * (model-fault.test.ts) on random seeds, S, S+1, …, one sequence each, until N minutes have passed.
 * Every failure is shrunk to a minimal sequence and printed with the seed that replays it; the end
 * prints the seeds run, the steps taken (by kind) and the distinct findings.
 *
 *   npm run soak -- --model --minutes 30 --seed 1000
 *   npm run soak -- --model --seed 1017 --minutes 0     replays seed 1017 once
 *   npm run soak -- --model --minutes 20 --serve 5       the serve SERVES[5] alone (commands.ts)
 */
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { senders, sendersFlags, SERVES, sequences, STEP_KINDS } from './commands.ts';
import { TRANSPORTS } from './system.ts';
import { World } from './world.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'boolean', default: true },
    minutes: { type: 'string', default: '30' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    commands: { type: 'string', default: '40' },
    serve: { type: 'string' },
  },
});
const deadline = Date.now() + Number(values.minutes) * 60_000;
const first = Number(values.seed);
const counts = new Map<string, number>();
const findings = new Map<string, { seed: number; steps: string }>();
let seed = first;
let sequencesRun = 0;

do {
  let log: string[] = [];
  let drawn: Parameters<typeof sendersFlags> = [[], []];
  // The seeds go round the serves the test drives (or keep to the one `--serve` names, by its
  // index): a finding's replay flags say which.
  const serve = SERVES[values.serve === undefined ? seed % SERVES.length : Number(values.serve)]!;
  const flags = Object.entries(serve)
    .map(([k, v]) => `--${k} ${v} `)
    .join('');
  const result = await fc.check(
    fc.asyncProperty(
      ...senders,
      sequences(Number(values.commands), serve),
      async (transports, temporalities, cmds) => {
        const world = await World.create({ ...serve, transports, temporalities });
        drawn = [transports, temporalities];
        try {
          await fc.asyncModelRun(() => ({ model: {}, real: world }), cmds);
        } finally {
          log = world.log;
          for (const [k, n] of world.counts) counts.set(k, (counts.get(k) ?? 0) + n);
          // Its own serve only: a run that outlives an interrupted shrink must not kill the next's.
          await world.dispose();
        }
      },
    ),
    // Shrinking starts a serve per try: bounded, so a long run goes on to other seeds.
    { seed, numRuns: 1, interruptAfterTimeLimit: 300_000, markInterruptAsFailure: true },
  );
  sequencesRun++;
  if (result.failed) {
    const message = String(
      (result.errorInstance as Error | undefined)?.message ?? result.errorInstance,
    );
    const headline = message.split('\n').slice(0, 2).join(' / ');
    // The shrunk sequence, as replay.ts takes it.
    const [transports, temporalities, commands] = result.counterexample ?? [
      ...drawn,
      log.join(', '),
    ];
    const minimal = `${sendersFlags(transports, temporalities)} ${String(commands)}`;
    const detail = message.split('\n').slice(0, 20).join('\n    ');
    console.log(`seed ${seed}: FAILED: ${headline}\n  minimal: ${flags}${minimal}\n    ${detail}`);
    if (!findings.has(headline)) findings.set(headline, { seed, steps: flags + minimal });
  } else console.log(`seed ${seed}: ok ${flags}`);
  seed++;
} while (Date.now() < deadline);

const steps = STEP_KINDS.reduce((n, k) => n + (counts.get(k) ?? 0), 0);
console.log(
  `\nseeds ${first}..${seed - 1}: ${sequencesRun} sequences, ${steps} steps (${STEP_KINDS.map((k) => `${k} ${counts.get(k) ?? 0}`).join(', ')}; exports ${TRANSPORTS.map((t) => `over ${t} ${counts.get(`over ${t}`) ?? 0}`).join(', ')})`,
);
console.log(`${findings.size} distinct findings`);
for (const [headline, { seed: s, steps: st }] of findings)
  console.log(`- ${headline}\n  seed ${s}: ${st}`);
process.exitCode = findings.size === 0 ? 0 : 1;
