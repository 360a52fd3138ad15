/**
 * Fixed family sets shared by the exposition tests (not a test file itself).
 *
 * `allTypes` covers every family type, label-less and labelled series, escaping (label values and
 * HELP), special values, a counter not ending in `_total`, info families with and without `_info`,
 * `# UNIT` with and without a matching suffix, histograms with several series sharing one bounds
 * array (including bounds where the two `le` spellings differ), and an empty family.
 *
 * `wellNamed` is a set that Prometheus 2.42's `promtool check metrics` lints clean.
 */
import type { Family } from '../../src/exposition/types.ts';
import { labelsText } from '../../src/naming/attribute-labels.ts';

/** A label string of these names and values, as the naming stage writes one (`utf8`: a name outside the classic set quoted). */
export const labelPairs = (names: readonly string[], values: readonly string[], utf8 = false) =>
  labelsText(Object.fromEntries(names.map((n, i) => [n, values[i]!])), utf8);

const DURATION_BOUNDS: readonly number[] = [0.005, 0.01, 0.1, 1, 10, 100000, 1e6];
const PAYLOAD_BOUNDS: readonly number[] = [1024, 1048576];

export function allTypes(): Family[] {
  return [
    {
      name: 'jobmeter_jobs_total',
      type: 'counter',
      help: 'Jobs finished, by "task" and kind.\nSecond line with a backslash \\ here.',
      unit: '',
      series: [
        { labels: labelPairs(['task', 'kind'], ['backup', 'cron']), value: 42 },
        {
          labels: labelPairs(['task', 'kind'], ['say "hi"\\now\nplease', 'manual']),
          value: 3,
        },
        {
          labels: labelPairs(['task', 'kind'], ['caf\u00e9 \u{1F680}', 'lone \uD800 surrogate']),
          value: 0,
        },
      ],
    },
    {
      name: 'legacy_task_count',
      type: 'counter',
      help: 'A legacy counter name without _total.',
      unit: '',
      series: [{ labels: '', value: 7 }],
    },
    {
      name: 'jobmeter_cpu_seconds_total',
      type: 'counter',
      help: 'CPU time used by jobs.',
      unit: 'seconds',
      series: [{ labels: '', value: 12.75 }],
    },
    {
      name: 'jobmeter_sensor_celsius',
      type: 'gauge',
      help: 'Special values.',
      unit: 'celsius',
      series: [
        { labels: 'probe="nan"', value: NaN },
        { labels: 'probe="pinf"', value: Infinity },
        { labels: 'probe="ninf"', value: -Infinity },
        { labels: 'probe="big"', value: 1e21 },
        { labels: 'probe="tiny"', value: 1.5e-7 },
        { labels: 'probe="neg"', value: -0.5 },
        { labels: 'probe="negzero"', value: -0 },
      ],
    },
    {
      name: 'jobmeter_memory_used',
      type: 'gauge',
      help: 'Unit given but not a suffix of the name: no # UNIT line.',
      unit: 'bytes',
      series: [{ labels: '', value: 1048576 }],
    },
    {
      name: 'jobmeter_queue_depth',
      type: 'gauge',
      help: '',
      unit: '',
      series: [{ labels: '', value: 0 }],
    },
    {
      name: 'jobmeter_build_info',
      type: 'info',
      help: 'Build information.',
      unit: '',
      series: [{ labels: labelPairs(['version', 'revision'], ['0.1.0', 'abc123']), value: 1 }],
    },
    {
      name: 'jobmeter_target',
      type: 'info',
      help: 'An info family whose name lacks _info.',
      unit: '',
      series: [{ labels: 'host="h1"', value: 1 }],
    },
    {
      name: 'jobmeter_misc',
      type: 'unknown',
      help: 'Of unknown type.',
      unit: '',
      series: [{ labels: 'k="v"', value: 2.5 }],
    },
    {
      name: 'jobmeter_never_observed',
      type: 'gauge',
      help: 'An empty family: omitted.',
      unit: '',
      series: [],
    },
    {
      name: 'jobmeter_job_duration_seconds',
      type: 'histogram',
      help: 'Job duration.',
      unit: 'seconds',
      series: [
        {
          labels: 'task="backup"',
          bounds: DURATION_BOUNDS,
          counts: [1, 0, 2, 3, 0, 1, 0, 1],
          sum: 1234567.5,
          count: 8,
        },
        {
          labels: 'task="we\\"ird"',
          bounds: DURATION_BOUNDS,
          counts: [0, 0, 0, 0, 0, 0, 0, 0],
          sum: 0,
          count: 0,
        },
        {
          labels: 'task="index"',
          bounds: DURATION_BOUNDS,
          counts: [5, 5, 5, 5, 5, 5, 5, 5],
          sum: 0.25,
          count: 40,
        },
      ],
    },
    {
      name: 'jobmeter_payload_bytes',
      type: 'histogram',
      help: '',
      unit: 'bytes',
      series: [{ labels: '', bounds: PAYLOAD_BOUNDS, counts: [2, 1, 1], sum: 2200000, count: 4 }],
    },
  ];
}

const LATENCY_BOUNDS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function wellNamed(): Family[] {
  return [
    {
      name: 'jobmeter_jobs_total',
      type: 'counter',
      help: 'Jobs finished, by task.',
      unit: '',
      series: [
        { labels: 'task="backup"', value: 42 },
        { labels: 'task="with \\"quotes\\" and \\\\ and \\n"', value: 1 },
      ],
    },
    {
      name: 'jobmeter_queue_depth',
      type: 'gauge',
      help: 'Jobs waiting.',
      unit: '',
      series: [{ labels: '', value: 3 }],
    },
    {
      name: 'jobmeter_build_info',
      type: 'info',
      help: 'Build information.',
      unit: '',
      series: [{ labels: 'version="0.1.0"', value: 1 }],
    },
    {
      name: 'jobmeter_job_duration_seconds',
      type: 'histogram',
      help: 'Job duration.',
      unit: 'seconds',
      series: [
        {
          labels: 'task="backup"',
          bounds: LATENCY_BOUNDS,
          counts: [0, 1, 0, 0, 2, 0, 0, 0, 0, 1, 0, 1],
          sum: 31.5,
          count: 5,
        },
        {
          labels: 'task="index"',
          bounds: LATENCY_BOUNDS,
          counts: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
          sum: 0.001,
          count: 1,
        },
      ],
    },
  ];
}
