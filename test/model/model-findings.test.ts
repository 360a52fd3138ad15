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
  /** Each sender under a scope of its own, served without scope labels (World.create `scopes`). */
  readonly scopes?: 'per-sender';
  /** The naming profile (World.create `profile`; `otel` when none). */
  readonly profile?: string;
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
  {
    title:
      "a delta sender's series merged by the naming, gone before a restart of serve, counts its window back whole after it (seed 9604: the carry read its departure only when the source came back, and the checkpoint did not keep it; 8 served where 9 were counted)",
    transports: ['http', 'http'],
    temporalities: ['cumulative', 'cumulative'],
    scopes: 'per-sender',
    steps: [
      'restartSender(0, false, true, false)',
      'flood("one")',
      'silence(0)',
      'push(1, ["a","b"], 0, 55)',
      'overlapDelta(0, ["a","b"], 6)',
      'push(1, ["a","b"], 5, 2)',
      'staleToken(0)',
      'restartServe("SIGTERM")',
      'flood("one")',
    ],
  },
  {
    title:
      "a scope's series served alone keeps its part when it leaves as another scope's series of its label set comes, between two scrapes (seed 9774: a series of one scope alone was not carried; 0 served where 1 was counted)",
    transports: ['http', 'http'],
    temporalities: ['cumulative', 'cumulative'],
    scopes: 'per-sender',
    steps: ['push(0, ["b"], 1, 0)', 'overlapDelta(1, ["a","b"], 2)', 'silence(0)'],
  },
  {
    title:
      "a delta sender's series held dormant after a restart of serve, then forgotten, counts its windows back whole (seed 9804: the forgotten series told the carry nothing, and its source's first windows back were compared with its old total; 20 served where 27 were counted)",
    transports: ['http', 'http'],
    temporalities: ['cumulative', 'cumulative'],
    scopes: 'per-sender',
    steps: [
      'push(1, ["a","b"], 7, 69)',
      'lateDeltas(0, ["a"], 6, 2)',
      'restartSender(0, false, true, false)',
      'restartServe("SIGKILL")',
      'silence(1)',
      'silence(1)',
      'flood("one")',
      'push(1, ["b"], 6, 50)',
      'lateDeltas(1, ["a","b"], 4, 7)',
    ],
  },
  {
    title:
      "while writes fail, a label set whose file series' sender went silent stays served as the file had it while another sender's series of it is live (seeds 9924, 9934, 10019: the copy served dropped the file's series, and the other sender's, made after the last write, was in no file; the series went missing)",
    transports: ['http', 'http'],
    temporalities: ['cumulative', 'cumulative'],
    scopes: 'per-sender',
    steps: [
      'lateDeltas(1, ["a","b"], 8, 2)',
      'failDisk("full")',
      'overlapDelta(0, ["b"], 8)',
      'silence(1)',
    ],
  },
  {
    title:
      "a series that left while writes failed is counted as gone in the first checkpoint written after (its sender back with a new series, then a SIGKILL: the copy's passes read no departure, and the checkpoint must hold it; 32 served where 38 were counted)",
    transports: ['http', 'http'],
    temporalities: ['cumulative', 'cumulative'],
    scopes: 'per-sender',
    steps: [
      'push(1, ["a","b"], 6, 27)',
      'failDisk("read-only")',
      'push(0, ["a"], 2, 1)',
      'silence(1)',
      'push(1, ["a","b"], 30, 27)',
      'healDisk()',
      'restartServe("SIGKILL")',
      'push(0, ["a"], 1, 1)',
    ],
  },
  {
    title:
      "while writes fail, a file's series held dormant after a SIGKILL stays served as the file had it once another scope's series of its label set is live (seed 10394: the copy held it dormant as live does, where live serves its part by the carry; the series went missing)",
    transports: ['http', 'http'],
    temporalities: ['cumulative', 'cumulative'],
    scopes: 'per-sender',
    steps: [
      'lateDeltas(0, ["a","b"], 8, 6)',
      'failDisk("read-only")',
      'silence(1)',
      'silence(1)',
      'push(0, ["a","b"], 6, 38)',
      'restartServe("SIGKILL")',
      'push(1, ["a"], 8, 22)',
    ],
  },
  {
    title:
      "after a SIGKILL, what a gone source counted stays while its label set's only other series is dormant, and is served again when that series' sender wakes it (seed 10724: the first pass saw the label set unserved and forgot it; 3 served where 4 were counted)",
    transports: ['http', 'http'],
    temporalities: ['cumulative', 'cumulative'],
    scopes: 'per-sender',
    steps: [
      'flood("one")',
      'silence(0)',
      'push(1, ["a","b"], 2, 25)',
      'lateDeltas(0, ["a","b"], 2, 9)',
      'failDisk("full")',
      'restartSender(1, false, true, true)',
      'silence(0)',
      'restartServe("SIGKILL")',
      'failDisk("full")',
    ],
  },
  {
    title:
      "a dormant series the carry never saw (the checkpoint was written before a pass did) is counted in its label set as a gone source, so another scope's series of it serves what it counted (seed 11024: 3 served where 5 were counted)",
    transports: ['http', 'http'],
    temporalities: ['cumulative', 'cumulative'],
    scopes: 'per-sender',
    steps: [
      'push(0, ["a","b"], 2, 20)',
      'failDisk("read-only")',
      'staleToken(0)',
      'restartServe("SIGKILL")',
      'overlapDelta(1, ["a"], 1)',
      'lateDeltas(1, ["a"], 6, 4)',
      'silence(0)',
      'staleToken(1)',
      'retryDelta(1)',
      'restartServe("SIGKILL")',
      'healDisk()',
      'staleToken(1)',
      'retryDelta(0)',
      'restartServe("SIGKILL")',
      'push(1, ["a"], 3, 84)',
    ],
  },
  {
    title:
      "while writes fail, the file's series of a label set stays served while a sender's series of it made again since holds it, the label set having stayed served by another scope's in between (seed 12039: served nothing where the file held 2)",
    transports: ['http', 'http'],
    temporalities: ['cumulative', 'cumulative'],
    scopes: 'per-sender',
    steps: [
      'overlapDelta(0, ["a","b"], 2)',
      'failDisk("full")',
      'push(1, ["a"], 3, 84)',
      'overlapDelta(1, ["b"], 2)',
      'flood("many")',
      'lateDeltas(0, ["a","b"], 0, 7)',
      'push(0, ["a","b"], 4, 85)',
      'push(1, ["a","b"], 2, 66)',
      'failDisk("read-only")',
      'overlapDelta(1, ["a","b"], 5)',
      'lateDeltas(1, ["b"], 4, 5)',
      'silence(0)',
      'stepClock(-300)',
      'push(0, ["b"], 2, 22)',
      'rotateToken("token-B", "SIGHUP")',
      'staleToken(0)',
      'flood("one")',
      'silence(1)',
    ],
  },
  {
    title:
      'a cumulative sender whose series expired while another scope served its label set comes back with delta windows, and its first window counts whole (seed 15064: the carry read it against its cumulative last; 2 served where 3 were counted)',
    transports: ['http', 'http'],
    temporalities: ['cumulative', 'cumulative'],
    scopes: 'per-sender',
    steps: [
      'flood("many")',
      'restartSender(1, false, true, false)',
      'silence(1)',
      'push(1, ["b"], 1, 96)',
    ],
  },
  {
    title:
      "under a legacy profile, a sender's series made and expired before any scrape named it keeps its total in the label set another scope's series serves (the model's stretches without a naming pass, issue 56: the departure was told only to a rule that had reported the series; 2 served where 7 were counted)",
    transports: ['http', 'http'],
    temporalities: ['cumulative', 'cumulative'],
    scopes: 'per-sender',
    profile: 'solti',
    steps: ['push(1, ["a"], 2, 1)', 'push(0, ["a"], 5, 1) unscraped', 'silence(0)'],
  },
  {
    title:
      "a sender's series made and expired before any scrape named it is kept across a restart right after the scrape that counted it (issue 56: the state file was written between that scrape's sweep and its naming pass, and not after it; 2 served after the restart where 7 were counted)",
    transports: ['http', 'http'],
    temporalities: ['cumulative', 'cumulative'],
    scopes: 'per-sender',
    profile: 'solti',
    steps: [
      'push(1, ["a"], 2, 1)',
      'push(0, ["a"], 5, 1) unscraped',
      'silence(0)',
      'restartServe("SIGKILL")',
      'push(1, ["a"], 1, 1)',
    ],
  },
  {
    title:
      'while writes fail, a series put dormant before the disk failed (its sender silent past expiry_ms since a restart) is not served again from the last file written, which held it awake (seed 5201: going dormant was no change the file took; the copy served its 0s where serve had stopped serving it)',
    transports: ['http', 'http'],
    temporalities: ['cumulative', 'cumulative'],
    scopes: 'per-sender',
    profile: 'solti',
    steps: [
      'push(1, ["a"], 0, 66) unscraped',
      'silence(1, 0) unscraped',
      'restartServe("SIGTERM") unscraped',
      'wait(3000)',
      'restartServe("SIGKILL")',
      'failDisk("full")',
      'flood("one")',
    ],
  },
  {
    title:
      "a sender's series made and expired before any scrape named it keeps its total in its label set across a SIGKILL whose state file was written after it left, with no scrape in between (the carry held the departure for the next pass, and the file did not; 2 served after the restart where 7 were counted)",
    transports: ['http', 'http'],
    temporalities: ['cumulative', 'cumulative'],
    scopes: 'per-sender',
    profile: 'solti',
    steps: [
      'push(1, ["a"], 2, 1)',
      'push(0, ["a"], 5, 1) unscraped',
      'silence(0, 0) unscraped',
      'wait(9500) unscraped',
      'checkpoint() unscraped',
      'restartServe("SIGKILL")',
    ],
  },
];

for (const { title, transports, temporalities, scopes, profile, steps } of FINDINGS)
  it(title, { timeout: 120_000 }, async () => {
    const world = await World.create({
      transports,
      temporalities,
      ...(scopes !== undefined && { scopes }),
      ...(profile !== undefined && { profile }),
    });
    try {
      for (const step of steps) await replayStep(world, step);
    } finally {
      await world.dispose();
    }
  });
