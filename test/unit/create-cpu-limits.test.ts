// The CPU limits of a create or update (createConfig.ts validateCpuLimits): Docker's refusals and
// wording; the range check of --cpus only where --cpus is given.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import { validateCpuLimits } from '../../src/engine/containers/createConfig';

test('validateCpuLimits: --cpus within 0.01..ncpu, not beside a quota or period; no limit is fine', () => {
  const ncpu = os.cpus().length;
  const range = new RegExp(`^Range of CPUs is from 0\\.01 to ${ncpu}\\.00, as there are only ${ncpu} CPUs available$`);
  assert.throws(() => validateCpuLimits((ncpu + 1) * 1e9, 0, 0), { message: range });
  assert.throws(() => validateCpuLimits(-1, 0, 0), { message: range });
  assert.doesNotThrow(() => validateCpuLimits(ncpu * 1e9, 0, 0));
  assert.doesNotThrow(() => validateCpuLimits(0, 0, 0));
  assert.throws(() => validateCpuLimits(1e9, 0, 100_000), /Nano CPUs and CPU Period cannot both be set/);
  assert.throws(() => validateCpuLimits(1e9, 50_000, 0), /Nano CPUs and CPU Quota cannot both be set/);
  assert.throws(() => validateCpuLimits(0, 0, 999), /CPU cfs period can not be less than 1ms/);
});
