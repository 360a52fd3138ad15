/**
 * Parts with a lifecycle, as the Collector's components (`Start` / `Shutdown`) and fastify's avvio
 * plugins have: each part, once started, says how it stops, and parts stop in reverse start order,
 * so a part starts after every part it needs while it stops. One loop serves a start that fails
 * (the parts started so far stop) and a shutdown.
 */
export type Stop = () => unknown;

export class Parts {
  readonly #stops: Stop[] = [];
  #stopping: Promise<void> | undefined;

  /** A part just started: it stops before every part started before it. */
  add(stop: Stop): void {
    this.#stops.push(stop);
  }

  /**
   * Starts a part: what `start` makes, its `stop` kept (none: it stops with a part started before
   * it). When `start` throws, the parts started so far stop (their failures dropped) first.
   */
  async start<T>(start: () => Promise<T>, stop?: (part: T) => unknown): Promise<T> {
    const part = await start().catch(async (err: unknown) => {
      await this.stop().catch(() => {});
      throw err;
    });
    if (stop !== undefined) this.add(() => stop(part));
    return part;
  }

  /**
   * Stops every part in reverse start order, each once the one started after it has stopped (the
   * first within this call). A part that fails to stop keeps no other from stopping; the first
   * failure rejects once all have. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const failures: unknown[] = [];
      for (const stop of this.#stops.toReversed())
        await (async () => stop())().catch((err: unknown) => failures.push(err));
      if (failures.length > 0) throw failures[0];
    })();
    return this.#stopping;
  }
}
