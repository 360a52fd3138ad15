/** An error's message for a log line or a response: an Error's own message, anything else as a string. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
