/**
 * One fleet's load on jobmeter alone (collector.ts's load job without the Collector beside it),
 * for A/B runs of the ingest: `node bench/ingest-fleet.ts [senders] [perInstrument] [seconds]`
 * forks ingest-server.mjs, sends every sender's export once (checked on a scrape), warms up for 3 s,
 * then measures; prints one JSON line: data points/s, refused requests, the server's CPU seconds per
 * million points, its RSS after the window and per 100,000 live series, its peak RSS. The server
 * runs with serve's Node flags (collector-fleet.ts `INGEST_SERVER_EXEC_ARGV`); `SERVER_ARGS='…'`
 * gives it others instead (`SERVER_ARGS=' '`: none), `MEM=1` prints its memory (`SMAPS=1`: and
 * its resident memory by mapping).
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  FLEET_PREFIX,
  FleetSender,
  INGEST_SERVER_EXEC_ARGV,
  liveSeries,
  sendFor,
  sendOnceEach,
  type FleetPlan,
  type IngestServerReady,
} from './collector-fleet.ts';

const plan: FleetPlan = {
  senders: Number(process.argv[2] ?? 10),
  instruments: 11,
  perInstrument: Number(process.argv[3] ?? 1_000),
  seconds: Number(process.argv[4] ?? 10),
};

const kb = (status: string, key: string): number =>
  Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)![1]) * 1024;
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const senders = Array.from({ length: plan.senders }, (_, k) => new FleetSender(k, plan));
const child = fork(fileURLToPath(new URL('./ingest-server.mjs', import.meta.url)), [], {
  execArgv: [
    ...(process.env.SERVER_ARGS ?? INGEST_SERVER_EXEC_ARGV.join(' ')).split(' ').filter(Boolean),
    ...(process.env.MEM === '1' ? ['--expose-gc'] : []),
    ...(process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.PROF] : []),
  ],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const ready = await new Promise<IngestServerReady>((resolve, reject) => {
  child.once('message', (m) => resolve(m as IngestServerReady));
  child.once('exit', (code) => reject(new Error(`ingest-server exited with ${code}`)));
});
const otlp = `http://127.0.0.1:${ready.otlpPort}/v1/metrics`;
try {
  await sendOnceEach(otlp, senders);
  const body = await (await fetch(`http://127.0.0.1:${ready.pullPort}/metrics`)).text();
  const lines = body.split('\n').filter((l) => l.startsWith(FLEET_PREFIX)).length;
  if (lines !== liveSeries(plan))
    throw new Error(`${lines} sample lines, expected ${liveSeries(plan)}`);
  await sendFor(otlp, senders, 3);
  const cpu0 = cpuSeconds(child.pid!);
  const t0 = performance.now();
  const window = await sendFor(otlp, senders, plan.seconds);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(child.pid!) - cpu0;
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const points = window.accepted * senders[0]!.points;
  const rss = kb(status, 'VmRSS');
  console.log(
    JSON.stringify({
      fleet: `${plan.senders}x${plan.instruments * plan.perInstrument}`,
      pointsPerSecond: Math.round(points / seconds),
      refused: window.refused,
      cpuSecondsPerMillion: +(cpu / (points / 1e6)).toFixed(2),
      rssMiB: +(rss / 2 ** 20).toFixed(1),
      rssPer100kMiB: +(((rss / liveSeries(plan)) * 1e5) / 2 ** 20).toFixed(1),
      peakMiB: +(kb(status, 'VmHWM') / 2 ** 20).toFixed(1),
    }),
  );
} finally {
  child.disconnect();
}
