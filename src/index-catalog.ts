/**
 * `jobmeter/catalog`: the data behind the host API — jobmeter's own instruments and their default
 * buckets, the run outcomes, the fold value of capped attributes, the profile names.
 */
import { refuseUnsupportedNode } from './common/node-support.ts';

refuseUnsupportedNode();
export {
  ATTEMPTS,
  DOMAIN_INSTRUMENTS,
  DEFAULT_RUN_DURATION_BUCKETS,
  WAIT_BUCKETS,
} from './domain/catalog.ts';
export { PROCESS_INSTRUMENTS } from './domain/process-metrics.ts';
export { OUTCOMES, OTHER } from './domain/types.ts';
export { PROFILE_NAMES } from './options.ts';
