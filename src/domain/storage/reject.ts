/** The record face's refusal, shared by every storage kind (kept apart from sync-storage.ts's union of them). */
import { invalidValue, type RecordGuard } from '../record-guard.ts';

/** Reports a record refused by the fast check (`nonNegative` as given to it). */
export function reject(
  guard: RecordGuard,
  name: string,
  value: unknown,
  nonNegative: boolean,
): void {
  guard.drop(name, invalidValue(value, nonNegative) ?? 'not_a_number', value);
}
