/**
 * A real small file system for tests of a full or read-only disk: a tmpfs of `size` mounted on a
 * fresh folder (root only: without it the test fails, saying so, never skips), filled to its last
 * page or remounted read-only on demand. Call {@link smallDisks} at the top level of a test file:
 * it unmounts and removes its disks after the file's tests. A script outside `node --test` (the
 * soak) uses {@link mountSmallDisk}, {@link fillDisk} and {@link unmountSmallDisk} directly.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

export interface SmallDisks {
  /** A fresh tmpfs of `size` (as mount's `size=`, e.g. `64k`): its folder. */
  mount(size?: string): string;
  /** Writes `dir/filler` until the file system is full (ENOSPC). */
  fill(dir: string): void;
  /** Remounts `dir` read-only, or writable again. */
  remount(dir: string, mode: 'ro' | 'rw'): void;
}

/** A fresh tmpfs of `size` (as mount's `size=`): its folder. */
export function mountSmallDisk(size = '64k'): string {
  const dir = mkdtempSync(join(tmpdir(), 'jobmeter-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], {
      stdio: 'pipe',
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `this test mounts a ${size} tmpfs and needs root for it: \`mount -t tmpfs -o size=${size} tmpfs ${dir}\` failed (${String((err as { stderr?: unknown }).stderr ?? err).trim()}); run it as root`,
      { cause: err },
    );
  }
  return dir;
}

/** Writes `dir/filler` until the file system is full (ENOSPC); removing `dir/filler` frees it. */
export function fillDisk(dir: string): void {
  const page = Buffer.alloc(4096, 1);
  for (let i = 0; i < 1 << 20; i++) {
    try {
      appendFileSync(join(dir, 'filler'), page);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return;
      throw err;
    }
  }
  throw new Error(`${dir} did not fill up`);
}

export function unmountSmallDisk(dir: string): void {
  execFileSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
}

export function smallDisks(): SmallDisks {
  const mounted: string[] = [];
  after(() => {
    for (const dir of mounted) unmountSmallDisk(dir);
  });
  return {
    mount(size) {
      const dir = mountSmallDisk(size);
      mounted.push(dir);
      return dir;
    },
    fill: fillDisk,
    remount(dir, mode) {
      execFileSync('mount', ['-o', `remount,${mode}`, dir]);
    },
  };
}
