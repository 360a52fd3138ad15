/**
 * A member's life: say hello, answer every collect request with a report of what changed, and
 * at shutdown send a last report that says goodbye. A member never serves or pushes itself.
 */
import { randomUUID } from 'node:crypto';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { Slice } from '../common/slices.ts';
import type { Log } from '../common/log.ts';
import { ReportEncoder } from './report-encoder.ts';
import type { MemberChannel } from './transport.ts';
import { WIRE_TAG } from './wire.ts';

export interface MemberOptions {
  readonly channel: MemberChannel;
  /** The member's own cumulative collection. */
  readonly collect: () => Promise<ResourceMetrics>;
  /** Past this with no answer to its hello, one line says that nobody aggregates. */
  readonly welcomeMillis: number;
  readonly log: Log;
  /** What to say when nobody welcomes this member. */
  readonly alone: string;
}

export interface Member {
  /** Sends the last report (`bye`) and stops listening. Idempotent. */
  close(): Promise<void>;
}

export function startMember(options: MemberOptions): Member {
  const { channel, collect } = options;
  const instance = randomUUID();
  let encoder = new ReportEncoder(instance);
  /** The aggregate this member reports to (its encoder's state is relative to it). */
  let reportingTo: string | undefined;
  let closed = false;
  /** The newest collect request not yet answered, and the report being sent. */
  let wanted: number | undefined;
  let sending: Promise<void> | undefined;

  const hello = (): void => channel.send({ tag: WIRE_TAG, t: 'hello', instance });
  const report = async (seq: number, bye: boolean): Promise<void> => {
    const rm = await collect();
    const slice = new Slice();
    for (const chunk of encoder.chunks(rm, seq, bye)) {
      channel.send(chunk);
      if (slice.due()) await slice.next();
    }
  };
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
      if (reportingTo !== undefined) encoder = new ReportEncoder(instance);
      reportingTo = undefined;
      hello();
    } else if (msg.t === 'collect' && msg.seq !== undefined) {
      wanted = Math.max(wanted ?? 0, msg.seq);
      pump();
    }
  });
  hello();
  const lonely = setTimeout(() => {
    if (reportingTo === undefined && !closed) options.log('warn', options.alone);
  }, options.welcomeMillis);
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
