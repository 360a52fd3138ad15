/**
 * An example program under examples/, started as its header says (`node <main>` with PORT set to a
 * free loopback port): its stdout and stderr interleaved as one text, its exit code, and a stop that
 * sends SIGTERM. Shared by the test/examples/ files, which each assert what their example serves.
 */
import { spawn } from 'node:child_process';
import { freePort } from './free-port.ts';

export interface ExampleProcess {
  /** The port given to it as PORT. */
  readonly port: number;
  /** Everything it printed so far, stdout and stderr in arrival order. */
  output(): string;
  /** Whether it is still running. */
  running(): boolean;
  /** Its exit code once it has exited. */
  readonly exited: Promise<number | null>;
  /** SIGTERM (a no-op once it has exited). */
  stop(): void;
}

export async function startExample(
  main: string,
  env: Readonly<Record<string, string>> = {},
): Promise<ExampleProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    port,
    output: () => out,
    running: () => child.exitCode === null,
    exited,
    stop: () => void child.kill('SIGTERM'),
  };
}
