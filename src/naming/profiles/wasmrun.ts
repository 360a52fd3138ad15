/**
 * The wasmrun profile, one module of data: the naming table the engine reads (profile) and what the
 * docs say of it (doc); docs/profiles.md is generated from both.
 */
import type { TableProfile } from '../types.ts';
import type { ProfileDoc } from './profile-doc.ts';
import { asLabels, rule } from './rule.ts';

export const profile: TableProfile = {
  kind: 'table',
  name: 'wasmrun',
  prefix: 'wasmrun_agent_',
  format: 'text',
  json: 'flat',
  rules: [
    rule('counter', 'jobmeter.run.finished', 'wasmrun_agent_exec_total', {
      help: 'Total code executions by terminal result.',
      labels: [['outcome', 'result']],
      // wasmrun's results: success, error (failed to run), timeout. A cancelled run did not complete.
      values: { outcome: { failure: 'error', cancelled: 'error' } },
      zeroFill: { result: ['success', 'error', 'timeout'] },
    }),
    rule('counter', 'jobmeter.run.duration', 'wasmrun_agent_exec_duration_ms_sum', {
      help: 'Sum of execution wall-clock durations in milliseconds.',
      from: 'sum',
      scale: 1000,
      emitZero: true,
    }),
    rule('counter', 'jobmeter.run.duration', 'wasmrun_agent_exec_duration_ms_count', {
      help: 'Number of executions in the sum \u2014 pair with _sum for the average.',
      from: 'count',
      emitZero: true,
    }),
    rule('counter', 'jobmeter.run.output_truncated', 'wasmrun_agent_output_truncated_total', {
      help: 'Executions whose captured output hit the --max-output cap.',
      emitZero: true,
    }),
    rule('counter', 'jobmeter.session.created', 'wasmrun_agent_sessions_created_total', {
      help: 'Sessions created since startup.',
      emitZero: true,
    }),
    rule('counter', 'jobmeter.request.rejected', 'wasmrun_agent_exec_rejected_total', {
      help: 'Requests rejected before doing work, by reason: concurrency (429), payload (413), unauthorized (401).',
      labels: asLabels('reason'),
      zeroFill: { reason: ['concurrency', 'payload', 'unauthorized'] },
    }),
    rule('gauge', 'jobmeter.session.active', 'wasmrun_agent_sessions_active', {
      help: 'Currently active (non-expired) sessions.',
      emitZero: true,
    }),
    rule('gauge', 'jobmeter.session.tracked', 'wasmrun_agent_sessions_total', {
      help: 'Sessions tracked, including expired-but-not-yet-cleaned.',
      emitZero: true,
    }),
    rule('gauge', 'jobmeter.run.active', 'wasmrun_agent_exec_in_flight', {
      help: 'Exec workers currently running.',
      emitZero: true,
    }),
    rule('gauge', 'jobmeter.session.disk.usage', 'wasmrun_agent_sessions_disk_bytes', {
      help: 'Total on-disk footprint across active sessions (bytes).',
      unit: 'bytes',
      emitZero: true,
    }),
  ],
};

/** What docs/profiles.md says of the profile besides its table (scripts/gen-profile-docs.ts). */
export const doc: ProfileDoc = {
  original: 'wasmrun agent server',
  about: [
    'wasmrun agent server (`wasmrun_agent_`), from its observability page: text 0.0.4 (and JSON),',
    'every series always present. `exec_duration_ms_sum`/`_count` are plain counters in the',
    "original, so they are rendered from the duration histogram's sum (in ms) and count.",
  ],
  promtool: [
    {
      metric: 'wasmrun_agent_exec_duration_ms_sum',
      problems: [
        'counter metrics should have "_total" suffix',
        'metric names should not contain abbreviated units',
        'non-histogram and non-summary metrics should not have "_sum" suffix',
      ],
      why: "wasmrun exposes the duration as two plain counters named like a histogram's parts, in milliseconds (`\u2026_ms_sum`, `\u2026_ms_count`); its dashboards divide one by the other.",
    },
    {
      metric: 'wasmrun_agent_exec_duration_ms_count',
      problems: [
        'counter metrics should have "_total" suffix',
        'metric names should not contain abbreviated units',
        'non-histogram and non-summary metrics should not have "_count" suffix',
      ],
      why: 'The count half of the same pair: a plain counter, `_ms` and no `_total`, as wasmrun names it.',
    },
    {
      metric: 'wasmrun_agent_sessions_total',
      problems: ['non-counter metrics should not have "_total" suffix'],
      why: 'A gauge (sessions tracked, including expired ones not yet cleaned) that wasmrun names `_total`.',
    },
  ],
};
