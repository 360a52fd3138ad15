/**
 * libfaketime (Debian package `faketime`, installed by scripts/ensure-test-deps.sh): a child whose
 * wall clock the test steps while it runs, its monotonic clock untouched — what NTP, a VM's
 * resume or `date -s` do to a service.
 *
 * Nothing here skips: without the library it throws, naming the command that installs it.
 */
import { existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs';

export const INSTALL_FAKETIME_COMMAND =
  'bash scripts/ensure-test-deps.sh   (npm test runs it first; it installs the Debian package faketime)';

/** The preload library's path (under /usr/lib/<multiarch triplet>/faketime/). */
export function libfaketime(): string {
  for (const dir of readdirSync('/usr/lib')) {
    const path = `/usr/lib/${dir}/faketime/libfaketime.so.1`;
    if (existsSync(path)) return path;
  }
  throw new Error(
    `libfaketime is not installed (no /usr/lib/*/faketime/libfaketime.so.1): run ${INSTALL_FAKETIME_COMMAND}`,
  );
}

/**
 * The environment of a child whose wall clock is offset by what `offsetFile` says (libfaketime's
 * relative form, `+400` or `-400` seconds), read again at every clock reading: {@link stepTo}
 * moves it while the child runs.
 */
export function steppedClockEnv(offsetFile: string): Record<string, string> {
  stepTo(offsetFile, 0);
  return {
    LD_PRELOAD: libfaketime(),
    FAKETIME_TIMESTAMP_FILE: offsetFile,
    FAKETIME_NO_CACHE: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
}

/** Sets the child's wall clock to the real one plus `seconds` (replaced whole: never read half-written). */
export function stepTo(offsetFile: string, seconds: number): void {
  writeFileSync(offsetFile + '.tmp', `${seconds >= 0 ? '+' : ''}${seconds}\n`);
  renameSync(offsetFile + '.tmp', offsetFile);
}
