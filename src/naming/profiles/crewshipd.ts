/**
 * The crewshipd profile, one module of data: the naming table the engine reads (profile) and what the
 * docs say of it (doc); docs/profiles.md is generated from both.
 */
import {
  AGENT_RUN_EVENTS,
  ASSIGNMENT_STATUSES,
  PIPELINE_RUN_STATUSES,
} from '../../domain/catalog.ts';
import { OTHER } from '../../domain/types.ts';
import type { TableProfile } from '../types.ts';
import type { ProfileDoc } from './profile-doc.ts';
import { asLabels, rule } from './rule.ts';

export const profile: TableProfile = {
  kind: 'table',
  name: 'crewshipd',
  prefix: 'crewshipd_',
  format: 'text',
  hostnameLabel: 'hostname',
  snapshot: { ttlMillis: 15_000 },
  rules: [
    rule('gauge', 'process.uptime', 'crewshipd_uptime_seconds', {
      help: 'Time since crewshipd started',
      unit: 'seconds',
    }),
    rule('gauge', 'jobmeter.process.active_resources', 'crewshipd_goroutines', {
      help: 'Number of goroutines (Node: active handles and requests)',
    }),
    rule('gauge', 'v8js.memory.heap.used', 'crewshipd_memory_alloc_bytes', {
      help: 'Bytes of allocated heap',
      unit: 'bytes',
    }),
    rule('gauge', 'process.memory.usage', 'crewshipd_memory_sys_bytes', {
      help: 'Total bytes obtained from the OS (Node: resident set size)',
      unit: 'bytes',
    }),
    rule('counter', 'jobmeter.process.gc.count', 'crewshipd_gc_runs_total', {
      help: 'Total GC runs',
    }),
    rule('gauge', 'jobmeter.websocket.connections', 'crewshipd_ws_connections', {
      help: 'Active WebSocket connections',
      emitZero: true,
    }),
    rule('gauge', 'jobmeter.assignments', 'crewshipd_assignments', {
      help: 'Assignments currently in each status',
      labels: asLabels('status'),
      zeroFill: { status: [...ASSIGNMENT_STATUSES, OTHER] },
    }),
    rule('gauge', 'jobmeter.queue.depth', 'crewshipd_assignment_queue_depth', {
      help: 'QUEUED assignments across all crews',
      emitZero: true,
    }),
    rule('gauge', 'jobmeter.queue.groups', 'crewshipd_assignment_queue_crews', {
      help: 'Crews with at least one queued assignment',
      emitZero: true,
    }),
    rule('gauge', 'jobmeter.queue.depth.max', 'crewshipd_assignment_queue_depth_max', {
      help: 'Queued assignments in the most backlogged crew',
      emitZero: true,
    }),
    rule('gauge', 'jobmeter.pipeline_runs', 'crewshipd_pipeline_runs', {
      help: 'Pipeline runs by status',
      labels: asLabels('status'),
      zeroFill: { status: [...PIPELINE_RUN_STATUSES, OTHER] },
    }),
    rule('counter', 'jobmeter.agent_run.events', 'crewshipd_agent_run_events_total', {
      help: 'Agent run lifecycle events from the unified journal (live + archived rows)',
      labels: asLabels('event'),
      // The canonical instrument's closed set, in its order.
      zeroFill: { event: [...AGENT_RUN_EVENTS.attributes[0].values] },
    }),
    rule('counter', 'jobmeter.llm.calls', 'crewshipd_llm_calls_total', {
      help: 'LLM invocations recorded in the paymaster cost ledger',
      labels: asLabels('provider'),
    }),
    rule('counter', 'jobmeter.llm.cost', 'crewshipd_llm_cost_usd_total', {
      help: 'Cumulative LLM spend in USD',
      labels: asLabels('provider'),
    }),
    rule('gauge', 'jobmeter.container.tracked', 'crewshipd_containers_tracked', {
      help: 'Crew containers registered with the stats collector',
      emitZero: true,
    }),
    rule('gauge', 'jobmeter.container.reporting', 'crewshipd_containers_reporting', {
      help: 'Tracked containers with a collected stats sample',
      emitZero: true,
    }),
    rule('gauge', 'jobmeter.db.migration.version', 'crewshipd_db_migration_version', {
      help: 'Highest applied schema migration version',
      emitZero: true,
    }),
  ],
};

/** What docs/profiles.md says of the profile besides its table (scripts/gen-profile-docs.ts). */
export const doc: ProfileDoc = {
  original: 'crewshipd agent crew orchestrator',
  about: [
    'crewshipd agent crew orchestrator (`crewshipd_`), from its metrics page: text 0.0.4, a',
    '`hostname` label on every series, zero-filled status gauges with an `other` fold, a capped',
    '`provider` label, queue aggregates only, and the DB-derived block cached 15 s.',
    '',
    "Go runtime figures keep their names (dashboards depend on them) and carry Node's nearest figure:",
    '  crewshipd_goroutines         \u2190 active libuv handles and requests (process.getActiveResourcesInfo)',
    '  crewshipd_memory_alloc_bytes \u2190 V8 heap used',
    '  crewshipd_memory_sys_bytes   \u2190 resident set size',
    "  crewshipd_gc_runs_total      \u2190 completed GCs (perf_hooks 'gc' entries)",
  ],
  promtool: [],
};
