/**
 * A read of a job store once per interval, off the collection path: a collection serves what the
 * last good read gave and never waits on the store (the queue depth, integrations/queue-depth.ts;
 * the oldest waiting job's age, domain/queue-ages.ts). One read at a time: a hung store holds one
 * call, and a read due while one is out is not sent (`busy` hears of it). A read that throws, at
 * once or later, is a failed read (`fail`), never an error out of the timer.
 */
export interface PollHandlers<T> {
  /** A read gave `got`; it was sent at `sentAt` (performance.now(): its age, never a date). */
  ok(got: T, sentAt: number): void;
  fail(err: unknown): void;
  /** A read was due while the last was still out. */
  busy?(): void;
  /** Whether the poll should stop (its owner shut down): the timer is cleared, no read sent. */
  stopped?(): boolean;
}

export class StorePoll<T> {
  readonly #read: () => T | Promise<T>;
  readonly #handlers: PollHandlers<T>;
  readonly #timer: ReturnType<typeof setInterval>;
  #inflight: Promise<void> | undefined;
  /** Reads of the store started (what a poll costs: the bench counts them). */
  reads = 0;

  /** Reads now, then every `intervalMillis` (checked by the caller's option rule: 100 ... 2^31-1). */
  constructor(read: () => T | Promise<T>, intervalMillis: number, handlers: PollHandlers<T>) {
    this.#read = read;
    this.#handlers = handlers;
    this.#timer = setInterval(() => void this.poll(), intervalMillis);
    this.#timer.unref();
    void this.poll();
  }

  /** One read, unless one is still out. Resolves when it settles (tests await it). */
  poll(): Promise<void> {
    if (this.#handlers.stopped?.() === true) {
      this.close();
      return Promise.resolve();
    }
    if (this.#inflight !== undefined) {
      this.#handlers.busy?.();
      return this.#inflight;
    }
    this.reads++;
    const sentAt = performance.now();
    this.#inflight = Promise.resolve()
      .then(this.#read)
      .then(
        (got) => {
          this.#handlers.ok(got, sentAt);
        },
        (err: unknown) => {
          this.#handlers.fail(err);
        },
      )
      .finally(() => {
        this.#inflight = undefined;
      });
    return this.#inflight;
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
