/**
 * How `jobmeter serve` stops: on SIGINT/SIGTERM, its parts in reverse start order (main.ts), within
 * SHUTDOWN_GRACE_MS; a second signal gives up waiting at once.
 */
import { EXIT_FAILURE, EXIT_OK, SHUTDOWN_GRACE_MS, type LogIo } from './io.ts';
import { messageOf } from '../common/message-of.ts';

/** Shutdown bounded by SHUTDOWN_GRACE_MS; a second signal gives up waiting at once. */
export async function shutdownWithin(
  stop: () => Promise<void>,
  io: LogIo,
  signals: SignalWaiter,
): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<number>((resolve) => {
    timer = setTimeout(() => {
      io.log(
        'error',
        'shutdown did not finish in time, exiting',
        { timeout_ms: SHUTDOWN_GRACE_MS },
        `shutdown did not finish within ${SHUTDOWN_GRACE_MS / 1000} s, exiting`,
      );
      resolve(EXIT_FAILURE);
    }, SHUTDOWN_GRACE_MS);
  });
  const interrupted = signals.next().then((signal) => {
    io.log(
      'warn',
      'signal received again, exiting without waiting for shutdown',
      { signal },
      `${signal} received again, exiting without waiting for shutdown`,
    );
    return EXIT_FAILURE;
  });
  const finished = stop().then(
    () => EXIT_OK,
    (err: unknown) => {
      io.log(
        'error',
        'shutdown failed',
        { error: messageOf(err) },
        `shutdown failed: ${messageOf(err)}`,
      );
      return EXIT_FAILURE;
    },
  );
  try {
    return await Promise.race([finished, timedOut, interrupted]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGINT/SIGTERM as a queue of promises; handlers are removed by dispose(). */
export class SignalWaiter {
  private readonly waiting: ((signal: NodeJS.Signals) => void)[] = [];
  private readonly pending: NodeJS.Signals[] = [];
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    const waiter = this.waiting.shift();
    if (waiter === undefined) this.pending.push(signal);
    else waiter(signal);
  };

  constructor() {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  next(): Promise<NodeJS.Signals> {
    const signal = this.pending.shift();
    if (signal !== undefined) return Promise.resolve(signal);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}
