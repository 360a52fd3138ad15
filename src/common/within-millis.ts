/**
 * Waiting for work, at most so long: the wait ends at the deadline, the work does not (it runs on,
 * and what it settles to later is nobody's). The timer is cleared as soon as either ends.
 */

/**
 * Resolves when `work` does, or after `millis` if it has not; rejects if `work` rejects first.
 * `unref`: the timer does not keep the process up. `lateError`: the deadline rejects, with what it
 * returns, rather than resolves (a wait that is an error when it runs out).
 */
export async function withinMillis(
  work: Promise<unknown>,
  millis: number,
  unref = false,
  lateError?: () => Error,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve, reject) => {
    timer = setTimeout(() => (lateError === undefined ? resolve() : reject(lateError())), millis);
    if (unref) timer.unref();
  });
  try {
    await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
