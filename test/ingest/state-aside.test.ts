/**
 * A state file that cannot be used is moved aside, never overwritten: `<file>.corrupt-<time>`, its
 * bytes as they were, one line naming both paths, then a fresh start and a fresh file at the next
 * checkpoint. Where it cannot be moved (a read-only file system: a real tmpfs remounted, so this
 * needs root), it stays as it is and no checkpoint replaces it until the move succeeds.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CHECKPOINT_VERSION, encodeCheckpoint } from '../../src/ingest/checkpoint.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { StateKeeper } from '../../src/ingest/state-keeper.ts';
import { ingestStateFileName, readStateFile, writeStateFile } from '../../src/ingest/state-file.ts';
import { smallDisks } from '../support/small-disk.ts';
import { tempFiles } from '../support/temp-files.ts';
import { metric, numberPoint, request, sum } from './helpers.ts';
import { logTo } from '../../src/common/log.ts';

const files = tempFiles('jobmeter-state-aside-');
const disks = smallDisks();
let dirs = 0;
const NAME = ingestStateFileName('127.0.0.1', 4318);

function open(dir: string, lines: string[]): { store: IngestStore; keeper: StateKeeper } {
  const store = new IngestStore();
  const keeper = StateKeeper.open(store, {
    dir,
    host: '127.0.0.1',
    port: 4318,
    maxBytes: 1e6,
    log: logTo((l) => lines.push(l)),
    emptyStore: () => new IngestStore(),
  });
  return { store, keeper };
}

/** What each kind of unusable file holds. */
async function unusableFiles(): Promise<Record<string, Buffer>> {
  const scratch = join(files.dir, 'scratch.state');
  await writeStateFile(
    scratch,
    CHECKPOINT_VERSION,
    encodeCheckpoint({ instruments: [], lastFailureSeconds: undefined }),
    1e6,
  );
  const good = readFileSync(scratch);
  await writeStateFile(scratch, CHECKPOINT_VERSION, '{"origins":[],"instruments":7}', 1e6);
  return {
    corrupt: Buffer.concat([good.subarray(0, good.length - 2), Buffer.from('X}')]),
    foreign: Buffer.from('{"instruments":[]}\n'),
    newer: Buffer.from(
      good.toString().replace(` v${CHECKPOINT_VERSION} `, ` v${CHECKPOINT_VERSION + 1} `),
    ),
    'not a checkpoint': readFileSync(scratch),
  };
}

describe('an unusable state file', () => {
  it('is moved aside with its bytes, one line naming both paths, and a fresh file is written', async () => {
    for (const [what, bytes] of Object.entries(await unusableFiles())) {
      const dir = join(files.dir, `d${++dirs}`);
      mkdirSync(dir);
      writeFileSync(join(dir, NAME), bytes);
      const lines: string[] = [];
      const { store, keeper } = open(dir, lines);
      assert.equal(lines.length, 1, what);
      const aside = readdirSync(dir).filter((f) => f !== NAME);
      assert.equal(aside.length, 1, `${what}: ${readdirSync(dir).join(', ')}`);
      assert.match(
        aside[0]!,
        new RegExp(
          `^${NAME.replaceAll('.', '\\.')}\\.corrupt-\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\d\\.\\d{3}Z$`,
        ),
        what,
      );
      assert.deepEqual(readFileSync(join(dir, aside[0]!)), bytes, `${what}: kept as it was`);
      assert.equal(
        lines[0],
        `warning: ingest state file ${keeper.path} is unusable: ${/ is unusable: (.*); moved to /.exec(lines[0]!)![1]}; moved to ${join(dir, aside[0]!)} (kept), starting afresh`,
        what,
      );
      assert.equal(store.seriesCount, 0);
      store.ingest(request([metric('daemon.jobs', sum([numberPoint(1, {}, 100, 110)]))]));
      await keeper.close();
      assert.equal(readStateFile(keeper.path, CHECKPOINT_VERSION, 1e6).status, 'ok', what);
    }
  });

  it('stays where it cannot be moved, and no checkpoint replaces it until it can be', async () => {
    const dir = disks.mount();
    const bytes = (await unusableFiles()).newer!;
    writeFileSync(join(dir, NAME), bytes);
    disks.remount(dir, 'ro');
    const lines: string[] = [];
    const { store, keeper } = open(dir, lines);
    assert.match(
      lines[0]!,
      /is unusable: written by a newer jobmeter .*; starting afresh, and it is moved aside before the first checkpoint \(it cannot be now: EROFS/,
    );
    store.ingest(request([metric('daemon.jobs', sum([numberPoint(1, {}, 100, 110)]))]));
    await keeper.save();
    assert.equal(keeper.health().failing?.reason, 'EROFS');
    assert.deepEqual(readdirSync(dir), [NAME]);
    assert.deepEqual(readFileSync(join(dir, NAME)), bytes, 'still the newer file');
    disks.remount(dir, 'rw');
    await keeper.save();
    const moved = readdirSync(dir).filter((f) => f !== NAME);
    assert.equal(moved.length, 1);
    assert.deepEqual(readFileSync(join(dir, moved[0]!)), bytes);
    assert.match(
      lines.at(-2)!,
      new RegExp(
        `is unusable: written by a newer jobmeter .*; moved to ${join(dir, moved[0]!).replaceAll('.', '\\.')} \\(kept\\), starting afresh$`,
      ),
    );
    assert.match(lines.at(-1)!, /^ingest state written again/);
    await keeper.close();
    assert.equal(readStateFile(keeper.path, CHECKPOINT_VERSION, 1e6).status, 'ok');
  });
});
