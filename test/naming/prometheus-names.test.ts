import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prometheusName, sanitizeName, unitWord } from '../../src/naming/prometheus-names.ts';

test('OTel compatibility naming: unit words and _total', () => {
  assert.deepEqual(prometheusName('jobmeter.run.duration', 's', 'histogram'), {
    name: 'jobmeter_run_duration_seconds',
    unit: 'seconds',
  });
  assert.deepEqual(prometheusName('jobmeter.run.finished', '{run}', 'counter'), {
    name: 'jobmeter_run_finished_total',
    unit: '',
  });
  assert.deepEqual(prometheusName('process.memory.usage', 'By', 'gauge'), {
    name: 'process_memory_usage_bytes',
    unit: 'bytes',
  });
  assert.deepEqual(prometheusName('process.cpu.time', 's', 'counter'), {
    name: 'process_cpu_time_seconds_total',
    unit: 'seconds',
  });
  // the unit is not repeated when already a suffix, and _total is not doubled
  assert.deepEqual(
    prometheusName('http.duration_seconds', 's', 'histogram').name,
    'http_duration_seconds',
  );
  assert.deepEqual(prometheusName('requests_total', '1', 'counter').name, 'requests_total');
  assert.deepEqual(prometheusName('cpu.utilization', '1', 'gauge').name, 'cpu_utilization_ratio');
});

test('unit words for rates and annotations', () => {
  assert.equal(unitWord('By/s', false), 'bytes_per_second');
  assert.equal(unitWord('{request}/s', false), 'per_second');
  assert.equal(unitWord('{run}', false), '');
  assert.equal(unitWord('ms', false), 'milliseconds');
});

test('sanitizing', () => {
  assert.equal(sanitizeName('a.b-c//d'), 'a_b_c_d');
  assert.equal(sanitizeName('1abc'), '_1abc');
  assert.equal(sanitizeName('service.name', true), 'service_name');
  assert.equal(sanitizeName('a:b', true), 'a_b');
});
