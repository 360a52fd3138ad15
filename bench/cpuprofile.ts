/**
 * The shape of a V8 `.cpuprofile` and how its frames are named, shared by the profile summaries
 * (cpuprofile-top.ts, cpuprofile-blocks.ts).
 */
import { fileURLToPath } from 'node:url';

export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

export interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export function where(f: CallFrame): string {
  if (f.url === '') return '(native)';
  let u = f.url.startsWith('file://') ? fileURLToPath(f.url) : f.url;
  if (u.startsWith(ROOT)) u = u.slice(ROOT.length);
  const nm = u.lastIndexOf('node_modules/');
  if (nm !== -1) u = u.slice(nm + 'node_modules/'.length);
  return u;
}

export function keyOf(f: CallFrame): string {
  const name = f.functionName === '' ? '(anonymous)' : f.functionName;
  return f.url === '' ? name : `${name} ${where(f)}:${f.lineNumber + 1}`;
}
