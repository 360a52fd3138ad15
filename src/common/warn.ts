/**
 * jobmeter's warnings about what a host's code did (a value dropped, a callback that threw): through
 * the OTel API's `diag` when the app has set a diag logger, as every OTel component warns; else as
 * a Node process warning (`JobmeterWarning`, on stderr unless the app runs with `--no-warnings` or
 * listens for 'warning'), because `diag` without a logger drops every line and a value refused
 * would go unsaid.
 *
 * What must stay true: the console hears each distinct line once (callers warn once per cause;
 * a cause that repeats, such as a callback failing at every collection, prints once), and the set
 * that remembers them is bounded.
 */
import { diag } from '@opentelemetry/api';
import { messageOf } from './message-of.ts';

/** Distinct lines printed to the console at most; past it, lines go unprinted (they stay counted). */
const PRINTED_LIMIT = 1000;
const printed = new Set<string>();

/**
 * Whether the app has set a diag logger: the OTel API's global registry (the
 * `opentelemetry.js.api.<major>` symbol every copy of API 1.x shares) holds one.
 */
function diagLoggerSet(): boolean {
  const api = (globalThis as Record<symbol, { diag?: unknown } | undefined>)[
    Symbol.for('opentelemetry.js.api.1')
  ];
  return api?.diag !== undefined;
}

/** Says `message` (and `err`, a cause) at `level`: to the app's diag logger, or once to the console. */
export function warn(message: string, err?: unknown, level: 'warn' | 'error' = 'warn'): void {
  if (diagLoggerSet()) {
    if (err === undefined) diag[level](message);
    else diag[level](message, err);
    return;
  }
  const line = err === undefined ? message : `${message} (${messageOf(err)})`;
  if (printed.has(line) || printed.size >= PRINTED_LIMIT) return;
  printed.add(line);
  process.emitWarning(line, { type: 'JobmeterWarning' });
}
