/**
 * A jobmeter as `jobmeter serve` makes it (src/jobmeter.ts serveJobmeter: its self-telemetry
 * counted from the start), for tests that read that telemetry back by the jobmeter.
 */
import { serveJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import type { SelfTelemetry } from '../../src/http/self-telemetry.ts';
import type { JobmeterOptions } from '../../src/options.ts';

const TELEMETRY = new WeakMap<Jobmeter, SelfTelemetry | undefined>();

/** serveJobmeter(options)'s jobmeter; its self-telemetry is {@link selfTelemetryOf}'s. */
export async function servedJobmeter(options: JobmeterOptions): Promise<Jobmeter> {
  const { jm, telemetry } = await serveJobmeter(options);
  TELEMETRY.set(jm, telemetry);
  return jm;
}

/** The self-telemetry of a jobmeter {@link servedJobmeter} made. */
export function selfTelemetryOf(jm: Jobmeter): SelfTelemetry | undefined {
  return TELEMETRY.get(jm);
}
