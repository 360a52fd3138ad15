/**
 * A member's life: say hello, answer every collect request with a report of what changed, and
 * at shutdown send a last report that says goodbye. A member never serves or pushes itself.
 */
import { randomUUID } from 'node:crypto';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Log } from '../common/log.ts';
import type { MessagePort } from 'node:worker_threads';
import { ReportEncoder } from './report-encoder.ts';
import { memberChannel } from './transport.ts';
import { WIRE_TAG } from './wire.ts';

/** How long a member waits for the primary's welcome before saying that nobody aggregates. */
export const CLUSTER_WELCOME_MILLIS = 5000;

export interface Member {
  /** Sends the last report (`bye`) and stops listening. Idempotent. */
  close(): Promise<void>;
}

/**
 * A member, reporting what `collect` (its own cumulative collection) gives over `reportTo` (a
 * thread's port) or the `node:cluster` channel. `addedExtremes`: its histogram min and max are of
 * the values recorded since its previous call (report-encoder.ts `ExtremesOf`).
 */
export function startClusterMember(
  reportTo: MessagePort | undefined,
  collect: () => Promise<ResourceMetrics>,
  log: Log,
  addedExtremes = false,
): Member {
  const channel = memberChannel(reportTo);
  const instance = randomUUID();
  let encoder = new ReportEncoder(instance, { added: addedExtremes });
  /** The aggregate this member reports to (its encoder's state is relative to it). */
  let reportingTo: string | undefined;
  let closed = false;
  /** The newest collect request not yet answered, and the report being sent. */
  let wanted: number | undefined;
  let sending: Promise<void> | undefined;

  const hello = (): void => channel.send({ tag: WIRE_TAG, t: 'hello', instance });
  const report = async (seq: number, bye: boolean): Promise<void> =>
    encoder.send(await collect(), seq, (chunk) => channel.send(chunk), bye);
  // One report at a time; requests that arrive meanwhile are answered once, by the newest.
  const pump = (): void => {
    if (sending !== undefined || wanted === undefined || closed) return;
    const seq = wanted;
    wanted = undefined;
    sending = report(seq, false)
      .catch(() => {})
      .finally(() => {
        sending = undefined;
        pump();
      });
  };

  channel.onMessage((msg) => {
    if (msg.t === 'welcome') reportingTo = msg.aggregate;
    else if (msg.t === 'ready' && msg.aggregate !== reportingTo) {
      // Another aggregate (the primary's jobmeter started, or started again) knows nothing of this
      // member: the next report describes everything again, with its full values. The one it
      // reports to already has them (a second description would count them twice).
      if (reportingTo !== undefined)
        encoder = new ReportEncoder(instance, { added: addedExtremes, late: true });
      reportingTo = undefined;
      hello();
    } else if (msg.t === 'collect' && msg.seq !== undefined) {
      wanted = Math.max(wanted ?? 0, msg.seq);
      pump();
    }
  });
  hello();
  const lonely = setTimeout(() => {
    if (reportingTo !== undefined || closed) return;
    log(
      'warn',
      reportTo !== undefined
        ? 'this thread reports over cluster.reportTo, but no jobmeter answered on the other end: call jm.aggregate(worker) where the thread was started'
        : "this cluster worker reports to the primary, but no jobmeter answered there: call createJobmeter() in the primary too (it serves the workers' metrics; cluster: false makes each process stand alone)",
    );
  }, CLUSTER_WELCOME_MILLIS);
  lonely.unref();

  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= (async () => {
        closed = true;
        clearTimeout(lonely);
        await sending;
        await report(0, true).catch(() => {});
        channel.close();
      })();
      return closing;
    },
  };
}
