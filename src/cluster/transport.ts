/**
 * How members and the primary reach each other: the `node:cluster` IPC channel, or a
 * `worker_threads` port. Both carry the same messages (wire.ts) behind the same two shapes, so
 * the lifecycle code knows no transport. Messages are tagged: the host's own messages on the same
 * channel pass by untouched (and the host's handlers see jobmeter's, which carry `tag`).
 */
import type { Cluster, Worker as ClusterWorker } from 'node:cluster';

/** node:cluster as Node gives it (module.exports is the cluster; @types/node types the ES namespace). */
export const cluster = process.getBuiltinModule('node:cluster') as unknown as Cluster;
import type { MessagePort, Worker as ThreadWorker } from 'node:worker_threads';
import { isWire, WIRE_TAG, type FromMember, type ToMember } from './wire.ts';

/** A member's end: what it sends to the primary and hears from it. */
export interface MemberChannel {
  send(message: FromMember): void;
  onMessage(handler: (message: ToMember) => void): void;
  /** Stops listening (the channel itself is the host's: it stays open). */
  close(): void;
}

/** The primary's end: what members say, by a link id unique to each worker or thread. */
export interface PrimarySink {
  /** Unique to this aggregate (members tell a new one from the one they report to). */
  readonly id: string;
  received(link: string, message: FromMember, reply: (message: ToMember) => void): void;
  gone(link: string): void;
}

type MessageSource = Record<'on' | 'off', (event: 'message', l: (msg: unknown) => void) => unknown>;

/**
 * A member's channel: the port to the thread that aggregates (usually `parentPort`), or, with
 * none, the `node:cluster` IPC channel to the primary.
 */
export function memberChannel(port: MessagePort | undefined): MemberChannel {
  const source: MessageSource = port ?? process;
  let listener: ((msg: unknown) => void) | undefined;
  return {
    send(message) {
      if (port !== undefined) port.postMessage(message);
      // A worker whose primary has gone has nobody to report to.
      else if (process.connected) process.send?.(message, undefined, undefined, () => {});
    },
    onMessage(handler) {
      listener = (msg) => {
        if (isWire(msg)) handler(msg as ToMember);
      };
      source.on('message', listener);
    },
    close() {
      if (listener !== undefined) source.off('message', listener);
      listener = undefined;
    },
  };
}

/** Whether a jobmeter of this process already aggregates the cluster's workers. */
let claimed = false;

/**
 * In the `node:cluster` primary: every worker's reports, and its exit. Returns how to stop, or
 * undefined when another jobmeter of this process already listens: the workers report to one
 * aggregate only (a worker's reports carry what changed since its last one, to one reader).
 */
export function listenToClusterWorkers(sink: PrimarySink): (() => void) | undefined {
  if (claimed) return undefined;
  claimed = true;
  // A worker gone (or going) has nobody to hear a reply; a send that fails is dropped.
  const reply =
    (worker: ClusterWorker) =>
    (message: ToMember): void => {
      if (worker.isConnected()) worker.send(message, undefined, undefined, () => {});
    };
  const onMessage = (worker: ClusterWorker, msg: unknown): void => {
    if (isWire(msg)) sink.received(`worker ${worker.id}`, msg as FromMember, reply(worker));
  };
  const onExit = (worker: { id: number }): void => sink.gone(`worker ${worker.id}`);
  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  // Workers forked before the primary's jobmeter started said hello to nobody: ask again.
  for (const worker of Object.values(cluster.workers ?? {}))
    if (worker !== undefined) reply(worker)({ tag: WIRE_TAG, t: 'ready', aggregate: sink.id });
  return () => {
    cluster.off('message', onMessage);
    cluster.off('exit', onExit);
    claimed = false;
  };
}

/**
 * In the thread that aggregates: a worker thread (its `Worker`) or the other end of a port given
 * to it. Its leave is the thread's exit, the port's close or a call of the function returned,
 * which stops listening.
 */
export function listenToPort(
  sink: PrimarySink,
  link: string,
  source: ThreadWorker | MessagePort,
): () => void {
  const reply = (message: ToMember): void => source.postMessage(message);
  const onMessage = (msg: unknown): void => {
    if (isWire(msg)) sink.received(link, msg as FromMember, reply);
  };
  const onGone = (): void => sink.gone(link);
  source.on('message', onMessage);
  source.on('exit', onGone);
  source.on('close', onGone);
  // A thread that started first said hello to nobody.
  reply({ tag: WIRE_TAG, t: 'ready', aggregate: sink.id });
  return () => {
    source.off('message', onMessage);
    source.off('exit', onGone);
    source.off('close', onGone);
    // No longer heard: asking it again would only wait for the timeout.
    sink.gone(link);
  };
}
