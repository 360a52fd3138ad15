/**
 * The cluster's parts of a jobmeter: the primary, serving the aggregate of its members' reports,
 * and a member, reporting to it (its hearing of threads is createJobmeter's: `jm.aggregate`).
 */
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { MessagePort } from 'node:worker_threads';

import { messageOf } from '../common/message-of.ts';
import type { Log } from '../common/log.ts';
import { LazyPrimary } from './lazy-primary.ts';
import type { Member } from './member.ts';
import { mergePolicies } from '../domain/merge-rules.ts';
import type { PrimaryOptions } from './primary.ts';
import { clusterWorkerChannel, portChannel } from './transport.ts';

/** How long a member waits for the primary's welcome before saying that nobody aggregates. */
export const CLUSTER_WELCOME_MILLIS = 5000;

/** The primary: its code loads with a member's first message, made with `options` then. */
export function clusterPrimary(
  cluster: { readonly timeoutMillis: number; readonly merge: Parameters<typeof mergePolicies>[0] },
  log: Log,
  options: () => Omit<PrimaryOptions, 'policyFor' | 'timeoutMillis'>,
): LazyPrimary {
  return new LazyPrimary(
    () => ({
      ...options(),
      policyFor: mergePolicies(cluster.merge),
      timeoutMillis: cluster.timeoutMillis,
    }),
    (err) =>
      log(
        'warn',
        "the cluster's aggregate could not load: this process serves its own metrics only, and its members' reports are dropped",
        { error: messageOf(err) },
        `the cluster's aggregate could not load (${messageOf(err)}): this process serves its own metrics only, and its members' reports are dropped`,
      ),
  );
}

/**
 * A member, reporting what `collect` gives over `reportTo` (a thread's port) or the `node:cluster`
 * channel; the member's code loads in a member only.
 */
export async function startClusterMember(
  reportTo: MessagePort | undefined,
  collect: () => Promise<ResourceMetrics>,
  log: Log,
): Promise<Member> {
  const { startMember } = await import('./member.ts');
  return startMember({
    channel: reportTo !== undefined ? portChannel(reportTo) : clusterWorkerChannel(),
    collect,
    welcomeMillis: CLUSTER_WELCOME_MILLIS,
    log,
    alone:
      reportTo !== undefined
        ? 'this thread reports over cluster.reportTo, but no jobmeter answered on the other end: call jm.aggregate(worker) where the thread was started'
        : "this cluster worker reports to the primary, but no jobmeter answered there: call createJobmeter() in the primary too (it serves the workers' metrics; cluster: false makes each process stand alone)",
  });
}
