/**
 * The bystander process (bystander.ts) seen from a measured process: started with `fork`, and
 * asked to start and stop its own event-loop monitor over the window being measured, so its max
 * is the floor the machine set for that window.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The bystander process (bystander.ts), ready when this resolves. */
export async function startBystander(): Promise<{
  start(): Promise<void>;
  stop(): Promise<{ maxMs: number }>;
  close(): void;
}> {
  const child = fork(fileURLToPath(new URL('./bystander.ts', import.meta.url)), [], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const answer = <T>(m: string) =>
    new Promise<T>((resolve, reject) => {
      child.once('message', (x) => resolve(x as T));
      child.once('exit', (code) => reject(new Error(`bystander exited with ${code}`)));
      child.send(m);
    });
  return {
    start: async () => {
      await answer('start');
    },
    stop: () => answer('stop'),
    close: () => child.disconnect(),
  };
}
