/**
 * A state file on disk: one header line — what it is, the format's version, the payload's
 * SHA-256 and length — then the payload. What the payload means is its writer's (checkpoint.ts).
 *
 * - **Atomic replace.** A write goes to a temporary file of a name of its own, `FILE.tmp-<random>`,
 *   made anew (exclusively, never through a link), fsync'd, then renamed over `FILE` (and the
 *   directory fsync'd where the platform allows): a crash at any point leaves the old file or the
 *   new one whole, and a failed write leaves the old one. Nothing left where a temporary file once
 *   went (a crash's file, a directory, a FIFO, a link someone placed) stops a write: no write uses a
 *   name it did not just make. A crash's temporary files are removed at the next start
 *   ({@link removeTempLeftovers}).
 * - **Bounded.** A payload whose file would pass `maxBytes` is not written (the old file stays),
 *   and only a regular file of at most `maxBytes` is read.
 * - **Checked.** A missing file is a first start. A file that is truncated, corrupt, foreign, of
 *   another kind or of a newer version is *unusable*: the caller is told why (for one warning),
 *   moves it aside ({@link moveAside}: kept, for a look or a newer version's use) and starts
 *   afresh. Reading never throws for what is in the file.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  type Stats,
} from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { messageOf } from '../common/message-of.ts';

const MAGIC = 'jobmeter-state';
/** What the file holds, after {@link MAGIC}: the ingest store's state (its only kind). */
const KIND = 'ingest';
/** The header line is short; a file whose first line is longer is not a state file. */
const MAX_HEADER_BYTES = 200;
/** Between a state file's name and the random part of a write's temporary file's. */
const TEMP_INFIX = '.tmp-';

/** What reading a state file found. */
export type StateFileRead =
  | { readonly status: 'missing' }
  | {
      readonly status: 'ok';
      readonly version: number;
      readonly payload: string;
      /** The file's size, header included. */
      readonly bytes: number;
    }
  | { readonly status: 'unusable'; readonly reason: string };

/** A write that did not happen (the old file, if any, is left as it was). */
export class StateFileError extends Error {
  override readonly name = 'StateFileError';
  /** Why, in a word that names no path (the file system's error code, or `too_large`): for `/ready`. */
  readonly code: string;

  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/**
 * The file name of the ingest state of a listener on `host`:`port`. Two `jobmeter serve` cannot
 * hold one listener address at once, so two of them never share one file (characters outside
 * `[A-Za-z0-9._-]`, as an IPv6 address' colons, become `_`).
 */
export function ingestStateFileName(host: string, port: number): string {
  return `ingest-${host.replace(/[^A-Za-z0-9._-]/g, '_')}-${port}.state`;
}

/**
 * Creates `dir` (and its missing parents, private to the user) unless it is a directory already:
 * one system call per level, so a file system that refuses (a path under /proc) fails at once.
 * @throws the file system's error; ENOTDIR when `dir` or a parent is something else.
 */
export function makeStateDir(dir: string): void {
  const missing: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    const found = statOrMissing(at);
    if (found !== undefined) {
      if (!found.isDirectory())
        throw Object.assign(new Error(`ENOTDIR: not a directory, ${at}`), { code: 'ENOTDIR' });
      break;
    }
    missing.push(at);
    if (dirname(at) === at) break;
  }
  for (const level of missing.reverse()) {
    try {
      mkdirSync(level, { mode: 0o700 });
    } catch (err) {
      // Made by someone else meanwhile: as good, if it is a directory.
      if (
        (err as NodeJS.ErrnoException).code !== 'EEXIST' ||
        statOrMissing(level)?.isDirectory() !== true
      )
        throw err;
    }
  }
}

function statOrMissing(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Moves the state file `path` aside, to `path.corrupt-<time>` (kept for a look, never read
 * again), before a fresh one is written in its place. Returns the new name. @throws the fs error.
 */
export function moveAside(path: string): string {
  const aside = `${path}.corrupt-${new Date().toISOString().replaceAll(':', '-')}`;
  renameSync(path, aside);
  return aside;
}

/**
 * Reads the state file `path`, accepting versions up to `maxVersion` and files up to
 * `maxBytes`. Only a regular file is read: it is opened without blocking (a FIFO in its place would
 * wait for a writer) and checked once open (a link to /dev/zero never ends), and no more than
 * `maxBytes` are read whatever its size says.
 */
export function readStateFile(path: string, maxVersion: number, maxBytes: number): StateFileRead {
  const unusable = (reason: string): StateFileRead => ({ status: 'unusable', reason });
  let bytes: Buffer;
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const stat = fstatSync(fd);
    if (!stat.isFile()) return unusable(`not a regular file (${fileKind(stat)})`);
    if (stat.size > maxBytes)
      return unusable(`${stat.size} bytes, more than the ${maxBytes} allowed`);
    // One byte more than allowed, to tell a file that grew since the fstat.
    const buffer = Buffer.allocUnsafe(stat.size + 1);
    let length = 0;
    for (
      let n;
      length < buffer.length &&
      (n = readSync(fd, buffer, length, buffer.length - length, null)) > 0;
    )
      length += n;
    if (length > maxBytes) return unusable(`more than the ${maxBytes} bytes allowed`);
    bytes = buffer.subarray(0, length);
  } catch (err) {
    if (fd === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT')
      return { status: 'missing' };
    return unusable(`cannot be read (${messageOf(err)})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const newline = bytes.indexOf(0x0a);
  const header =
    newline < 0 || newline > MAX_HEADER_BYTES
      ? []
      : bytes.subarray(0, newline).toString('latin1').split(' ');
  if (header[0] !== MAGIC) return unusable('not a jobmeter state file (no header line)');
  if (header.length !== 5 || header[1] !== KIND)
    return unusable(`not a jobmeter ${KIND} state file`);
  const version = /^v(\d{1,9})$/.exec(header[2]!)?.[1];
  const digest = /^sha256:([0-9a-f]{64})$/.exec(header[3]!)?.[1];
  const length = /^\d{1,15}$/.test(header[4]!) ? Number(header[4]) : undefined;
  if (version === undefined || digest === undefined || length === undefined)
    return unusable('a malformed header line');
  if (Number(version) > maxVersion)
    return unusable(
      `written by a newer jobmeter (format v${version}; this one reads up to v${maxVersion})`,
    );
  const payload = bytes.subarray(newline + 1);
  if (payload.length !== length)
    return unusable(
      `truncated or extended (${payload.length} bytes of payload, the header says ${length})`,
    );
  if (createHash('sha256').update(payload).digest('hex') !== digest)
    return unusable('its checksum does not match (corrupt)');
  return {
    status: 'ok',
    version: Number(version),
    payload: payload.toString('utf8'),
    bytes: bytes.length,
  };
}

/**
 * Replaces the state file `path` with `payload` atomically (see the top of this file); resolves
 * with the file's size, header included.
 * @throws {StateFileError} when the file would pass `maxBytes` or the write fails; the old file stays.
 */
export async function writeStateFile(
  path: string,
  version: number,
  payload: string,
  maxBytes: number,
): Promise<number> {
  const body = Buffer.from(payload, 'utf8');
  const header = Buffer.from(
    `${MAGIC} ${KIND} v${version} sha256:${createHash('sha256').update(body).digest('hex')} ${body.length}\n`,
    'latin1',
  );
  const size = header.length + body.length;
  if (size > maxBytes)
    throw new StateFileError(
      `not written: ${size} bytes, more than the ${maxBytes} allowed`,
      'too_large',
    );
  // A name no one has used: whatever is left where another write's temporary file went (a crash's
  // file, a directory, a FIFO, a link someone placed: the directory may be writable by others) is
  // never in the way. Made anew, O_EXCL and O_NOFOLLOW: never opened through a link or over a file
  // that appeared meanwhile.
  const temp = `${path}${TEMP_INFIX}${randomBytes(8).toString('hex')}`;
  try {
    const file = await open(
      temp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      // writeFile writes the whole buffer (a write may be partial), each after the last.
      await file.writeFile(header);
      await file.writeFile(body);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {});
    // Worded without the random part: the same failure reads the same at every write (the keeper
    // says a failure once while its words stay).
    throw new StateFileError(
      `not written (${messageOf(err).replaceAll(temp, `${path}${TEMP_INFIX}*`)})`,
      (err as NodeJS.ErrnoException).code ?? 'error',
    );
  }
  await syncDir(join(path, '..'));
  return size;
}

/**
 * Removes what writes of the state file `path` left when a crash cut them short: every entry named
 * `path.tmp` or `path.tmp-…` that is not a directory, each unlinked (a link itself, never what it
 * points to). A write never makes a directory, so one there is someone else's and stays; it is in
 * no write's way. Never throws: what cannot be removed stays, and is in no write's way either.
 * What must stay true: no write of `path` is under way (its temporary file is one of these).
 */
export function removeTempLeftovers(path: string): void {
  const dir = dirname(path);
  const name = basename(path);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry !== `${name}.tmp` && !entry.startsWith(`${name}${TEMP_INFIX}`)) continue;
    try {
      if (!lstatSync(join(dir, entry)).isDirectory()) unlinkSync(join(dir, entry));
    } catch {
      // Gone meanwhile, or not ours to remove: no write uses its name.
    }
  }
}

function fileKind(stat: Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'something else';
}

/** The rename made durable: the directory's entry synced, where the platform allows it. */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not every platform or file system can fsync a directory; the rename itself is atomic.
  }
}
