/**
 * Real job stores for the integration tests: Debian's redis-server and PostgreSQL, each started
 * here on loopback on a free port with its data in a temp dir, and stopped (dir removed) by
 * `stop()`. Installed by the preflight (scripts/ensure-test-deps.sh); a missing binary throws,
 * naming the command that installs it. PostgreSQL refuses to run as root: as root, its dir is
 * handed to the `postgres` user the Debian package creates and the server runs as that user.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, chownSync, constants as fsConstants, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { killAndWait, logTail, supervise, type Supervised } from '../support/child-process.ts';
import { freePort } from '../support/free-port.ts';

export const STORES_INSTALL_COMMAND =
  'bash scripts/ensure-test-deps.sh   (as root: apt-get install -y --no-install-recommends redis-server postgresql)';
const READY_TIMEOUT_MS = 30_000;

export interface StoreHandle {
  readonly port: number;
  /** redis://127.0.0.1:port or postgres://postgres@127.0.0.1:port/postgres */
  readonly url: string;
  /** SIGTERM (SIGKILL after 5 s); the data dir stays until {@link StoreHandle.remove}, so `start()` can bring it back. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data (after `stop()`). */
  start(): Promise<void>;
  /** Stops it and removes its dir. Safe to call twice. */
  remove(): Promise<void>;
  logs(): string;
}

function executable(path: string): string {
  try {
    accessSync(path, fsConstants.X_OK);
    return path;
  } catch {
    throw new Error(`${path} not found: run ${STORES_INSTALL_COMMAND}`);
  }
}

function which(name: string): string {
  for (const dir of (process.env['PATH'] ?? '').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    try {
      return executable(join(dir, name));
    } catch {
      // next
    }
  }
  throw new Error(`${name} not found: run ${STORES_INSTALL_COMMAND}`);
}

/** The newest /usr/lib/postgresql/<major>/bin. */
function postgresBin(): string {
  let majors: string[] = [];
  try {
    majors = readdirSync('/usr/lib/postgresql')
      .filter((d) => /^\d+$/.test(d))
      .sort((a, b) => Number(a) - Number(b));
  } catch {
    // none
  }
  if (majors.length === 0)
    throw new Error(`/usr/lib/postgresql/*/bin not found: run ${STORES_INSTALL_COMMAND}`);
  const bin = `/usr/lib/postgresql/${majors.at(-1)}/bin`;
  executable(join(bin, 'initdb'));
  return executable(join(bin, 'postgres')) && bin;
}

interface Server {
  proc: ReturnType<typeof spawn>;
  sup: Supervised;
}

async function handle(
  what: string,
  dir: string,
  port: number,
  url: string,
  launch: () => Server,
  ready: () => Promise<boolean>,
  stopSignal: NodeJS.Signals = 'SIGTERM',
): Promise<StoreHandle> {
  let server: Server | undefined;
  let logs = '';
  const start = async (): Promise<void> => {
    server = launch();
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let exited = false;
    void server.sup.exited.then(() => (exited = true));
    while (!(await ready())) {
      if (exited || Date.now() > deadline)
        throw new Error(
          `${what} did not start on 127.0.0.1:${port}\n${logTail(`${what} output`, server.sup.stdout() + server.sup.stderr())}`,
        );
      await sleep(50);
    }
  };
  const stop = async (): Promise<void> => {
    if (server === undefined) return;
    const s = server;
    server = undefined;
    s.proc.kill(stopSignal);
    await killAndWait(s.proc, s.sup.exited);
    logs += s.sup.stdout() + s.sup.stderr();
    s.sup.forget();
  };
  await start();
  return {
    port,
    url,
    stop,
    start,
    async remove() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
    logs: () => logs + (server ? server.sup.stdout() + server.sup.stderr() : ''),
  };
}

export async function startRedis(): Promise<StoreHandle> {
  const binary = which('redis-server');
  const dir = await mkdtemp(join(tmpdir(), 'jobmeter-redis-'));
  const port = await freePort();
  const cli = which('redis-cli');
  const launch = (): Server => {
    const proc = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--protected-mode',
        'yes',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return { proc, sup: supervise(proc, dir, 16_384) };
  };
  const ready = async (): Promise<boolean> =>
    spawnSync(cli, ['-h', '127.0.0.1', '-p', String(port), 'ping'], {
      encoding: 'utf8',
    }).stdout.trim() === 'PONG';
  return handle('redis-server', dir, port, `redis://127.0.0.1:${port}`, launch, ready);
}

export async function startPostgres(): Promise<StoreHandle> {
  const bin = postgresBin();
  const dir = await mkdtemp(join(tmpdir(), 'jobmeter-postgres-'));
  const data = join(dir, 'data');
  const port = await freePort();
  // PostgreSQL will not run as root: run it as the package's `postgres` user, owning the dir.
  const asRoot = process.getuid?.() === 0;
  let ids: { uid: number; gid: number } | undefined;
  if (asRoot) {
    const id = (flag: string): number =>
      Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    ids = { uid: id('-u'), gid: id('-g') };
    if (!Number.isInteger(ids.uid) || ids.uid === 0)
      throw new Error(
        `running as root and there is no 'postgres' user to run PostgreSQL as: run ${STORES_INSTALL_COMMAND}`,
      );
    chownSync(dir, ids.uid, ids.gid);
  }
  const user = asRoot ? 'postgres' : userInfo().username;
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
    { encoding: 'utf8', ...ids },
  );
  if (init.status !== 0) throw new Error(`initdb failed (as ${user}): ${init.stderr}`);
  const launch = (): Server => {
    const proc = spawn(
      join(bin, 'postgres'),
      [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...ids },
    );
    return { proc, sup: supervise(proc, dir, 16_384) };
  };
  const ready = async (): Promise<boolean> =>
    spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres'], {
      encoding: 'utf8',
    }).status === 0;
  // SIGTERM is postgres's "smart" shutdown, which waits for its clients to leave: SIGINT ("fast") does not.
  return handle(
    'postgres',
    dir,
    port,
    `postgres://postgres@127.0.0.1:${port}/postgres`,
    launch,
    ready,
    'SIGINT',
  );
}
