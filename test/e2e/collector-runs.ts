/**
 * Runs a foreign daemon and an embedded jobmeter both record, per legacy profile, for the tests
 * that compare them through the Collector (collector-views.test.ts, collector-daemon-gateway.test.ts):
 * kinds and runners inside each profile's closed sets, durations across its buckets.
 */
export interface Run {
  task: string;
  kind: string;
  runner: string;
  outcome: 'success' | 'failure' | 'cancelled' | 'timeout';
  seconds: number;
}

export const RUNS: Readonly<Record<'rm' | 'solti' | 'runwisp' | 'wasmrun', readonly Run[]>> = {
  rm: [
    { task: 'nightly', kind: 'backup', runner: 'subprocess', outcome: 'success', seconds: 20 },
    { task: 'weekly', kind: 'backup', runner: 'subprocess', outcome: 'success', seconds: 200 },
    { task: 'nightly', kind: 'prune', runner: 'subprocess', outcome: 'failure', seconds: 4000 },
    { task: 'nightly', kind: 'prune', runner: 'subprocess', outcome: 'timeout', seconds: 30000 },
  ],
  runwisp: [
    { task: 'nightly-backup', kind: 'task', runner: 'subprocess', outcome: 'success', seconds: 42 },
    { task: 'nightly-backup', kind: 'task', runner: 'subprocess', outcome: 'failure', seconds: 3.5 },
    { task: 'web', kind: 'service', runner: 'subprocess', outcome: 'cancelled', seconds: 600 },
  ],
  wasmrun: [
    { task: 'exec', kind: 'task', runner: 'wasm', outcome: 'success', seconds: 0.3 },
    { task: 'exec', kind: 'task', runner: 'wasm', outcome: 'failure', seconds: 0.05 },
    { task: 'exec', kind: 'task', runner: 'wasm', outcome: 'timeout', seconds: 30 },
  ],
  solti: [
    { task: 'build', kind: 'task', runner: 'subprocess', outcome: 'success', seconds: 0.3 },
    { task: 'lint', kind: 'task', runner: 'subprocess', outcome: 'success', seconds: 0.04 },
    { task: 'test', kind: 'task', runner: 'wasm', outcome: 'cancelled', seconds: 12 },
    { task: 'deploy', kind: 'task', runner: 'container', outcome: 'failure', seconds: 700 },
  ],
};
