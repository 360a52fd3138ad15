/**
 * examples/systemd/jobmeter.service scores "OK" or better in
 * `systemd-analyze security` (offline, on the file itself), hands a root-only
 * token file to the dynamic user (LoadCredential), does not restart forever on what a restart
 * cannot fix (a configuration error, a Node below the floor: the CLI's own exit statuses), and
 * reloads with SIGHUP. `systemd-analyze` comes with systemd (Debian package `systemd`).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { it } from 'node:test';

import { EXIT_USAGE } from '../../src/cli/io.ts';
import { EXIT_UNSUPPORTED_NODE } from '../../src/common/node-support.ts';

const UNIT = fileURLToPath(new URL('../../examples/systemd/jobmeter.service', import.meta.url));
const text = readFileSync(UNIT, 'utf8');
/** The unit's directives (comments dropped), each name with every value it is given. */
const directives = new Map<string, string[]>();
for (const line of text.split('\n')) {
  const m = /^([A-Za-z]+)=(.*)$/.exec(line);
  if (m !== null) directives.set(m[1]!, [...(directives.get(m[1]!) ?? []), m[2]!]);
}

it('systemd-analyze security rates the unit OK or better', async () => {
  let out: string;
  try {
    ({ stdout: out } = await promisify(execFile)(
      'systemd-analyze',
      ['security', '--offline=true', UNIT],
      { encoding: 'utf8' },
    ));
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string };
    if (e.code === 'ENOENT')
      throw new Error('systemd-analyze is not installed: apt-get install -y systemd', {
        cause: err,
      });
    // It exits non-zero when the exposure passes its --threshold (default 100): the rating still prints.
    out = e.stdout ?? '';
  }
  const m = /Overall exposure level for jobmeter\.service: (\d+\.\d) (\w+)/.exec(out);
  assert.ok(m !== null, out);
  assert.ok(['PERFECT', 'SAFE', 'OK'].includes(m[2]!), `rated ${m[1]} ${m[2]}`);
  assert.ok(Number(m[1]) <= 2, `exposure ${m[1]}`);
});

it('LoadCredential hands the token file over; restarts stop on exits 2 and 3; SIGHUP reloads; a state directory', () => {
  assert.deepEqual(directives.get('LoadCredential'), ['metrics-token:/etc/jobmeter/metrics-token']);
  // The path the config names for it: $CREDENTIALS_DIRECTORY of a system service (no variable expansion in the file).
  assert.match(text, /token_file = "\/run\/credentials\/jobmeter\.service\/metrics-token"/);
  assert.deepEqual(
    directives.get('RestartPreventExitStatus')![0]!.split(' ').map(Number).sort(),
    [EXIT_USAGE, EXIT_UNSUPPORTED_NODE].sort(),
  );
  assert.deepEqual(directives.get('StateDirectory'), ['jobmeter']);
  assert.deepEqual(directives.get('DynamicUser'), ['yes']);
  // V8's JIT needs writable-then-executable memory: Node does not start under it.
  assert.equal(directives.has('MemoryDenyWriteExecute'), false);
});

/**
 * The reload command as systemd runs it: `$MAINPID` replaced by the pid, then `$$` unescaped to
 * `$` (systemd's quoting is the shell's for this line, so a shell reads the same argv from it).
 */
function reloadCommand(pid: number): string {
  const [line] = directives.get('ExecReload') ?? [];
  assert.ok(line !== undefined, 'the unit has an ExecReload');
  return line.replaceAll('$MAINPID', String(pid)).replaceAll('$$', '$');
}

/** A node process that catches SIGHUP only after `delayMillis`, as Node's start and jobmeter's imports delay it. */
async function lateCatcher(delayMillis: number) {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `setTimeout(() => { process.on('SIGHUP', () => { console.log('reloaded'); process.exit(0); }); }, ${delayMillis}); setTimeout(() => {}, 60000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  await once(child, 'spawn');
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { pid: child.pid!, exited, output: () => out };
}

it('ExecReload waits until the process catches SIGHUP, so a reload right after start reloads instead of killing it', async () => {
  const child = await lateCatcher(1500);
  await promisify(execFile)('/bin/sh', ['-c', reloadCommand(child.pid)]);
  const [code, signal] = await child.exited;
  assert.deepEqual(
    { code, signal, out: child.output() },
    { code: 0, signal: null, out: 'reloaded\n' },
  );
});

it('a bare kill -HUP at the same moment kills that process (what the wait prevents)', async () => {
  const child = await lateCatcher(1500);
  process.kill(child.pid, 'SIGHUP');
  const [code, signal] = await child.exited;
  assert.deepEqual({ code, signal }, { code: null, signal: 'SIGHUP' });
});
