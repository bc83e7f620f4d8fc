import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { bytesSize, getTimestamp, humanDuration, humanSize, humanSizeWithPrecision, parseDuration } from '../../src/cli/format/units';
import { fromHumanSize, ramInBytes } from '../../src/lib/units';
import { InvalidParameterError } from '../../src/lib/errors';
import { nanoCpus, parseUlimit } from '../../src/cli/opts';

test('RAMInBytes like go-units', () => {
  assert.equal(ramInBytes('64m'), 67108864);
  assert.equal(ramInBytes('1g'), 1073741824);
  assert.equal(ramInBytes('1G'), 1073741824);
  assert.equal(ramInBytes('512k'), 524288);
  assert.equal(ramInBytes('100'), 100);
  assert.equal(ramInBytes('64MB'), 67108864);
  assert.equal(ramInBytes('64MiB'), 67108864);
  assert.equal(ramInBytes('1.5g'), 1610612736);
  assert.equal(ramInBytes('64 m'), 67108864);
  assert.throws(() => ramInBytes('1x'), /invalid size: '1x'/);
  assert.throws(() => ramInBytes(''), /invalid size/);
  assert.throws(() => ramInBytes('-1'), /invalid size/);
});

test('FromHumanSize like go-units (the daemon\'s --log-opt max-size): decimal multiples, an InvalidParameter when bad', () => {
  assert.equal(fromHumanSize('10k'), 10_000);
  assert.equal(fromHumanSize('10KiB'), 10_000);
  assert.equal(fromHumanSize('1m'), 1_000_000);
  assert.equal(fromHumanSize('1.5g'), 1_500_000_000);
  assert.equal(fromHumanSize('100'), 100);
  assert.throws(() => fromHumanSize('10q'), (e: Error) => e instanceof InvalidParameterError && e.message === "invalid size: '10q'");
});

test('HumanSize / BytesSize', () => {
  assert.equal(humanSizeWithPrecision(1984132, 3), '1.98MB');
  assert.equal(humanSize(1984132), '1.984MB');
  assert.equal(humanSizeWithPrecision(0, 3), '0B');
  assert.equal(humanSizeWithPrecision(1016, 3), '1.02kB');
  assert.equal(humanSizeWithPrecision(999, 3), '999B');
  assert.equal(bytesSize(901120), '880KiB');
  assert.equal(bytesSize(25276510208), '23.54GiB');
  assert.equal(humanSize(0), '0B');
});

test('HumanDuration', () => {
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1000), '1 second');
  assert.equal(humanDuration(19000), '19 seconds');
  assert.equal(humanDuration(60000), 'About a minute');
  assert.equal(humanDuration(119000), 'About a minute');
  assert.equal(humanDuration(12 * 60000), '12 minutes');
  assert.equal(humanDuration(3600000), 'About an hour');
  assert.equal(humanDuration(5 * 3600000), '5 hours');
  assert.equal(humanDuration(3 * 24 * 3600000), '3 days');
  assert.equal(humanDuration(21 * 24 * 3600000), '3 weeks');
  assert.equal(humanDuration(90 * 24 * 3600000), '3 months');
  assert.equal(humanDuration(3 * 365 * 24 * 3600000), '3 years');
});

test('durations like time.ParseDuration', () => {
  assert.equal(parseDuration('5s'), 5e9);
  assert.equal(parseDuration('10m'), 600e9);
  assert.equal(parseDuration('1h30m'), 5400e9);
  assert.equal(parseDuration('1.5h'), 5400e9);
  assert.equal(parseDuration('300ms'), 300e6);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('-2s'), -2e9);
  assert.throws(() => parseDuration('5'), /missing unit/);
  assert.throws(() => parseDuration('5x'), /unknown unit/);
  assert.throws(() => parseDuration(''), /invalid duration/);
});

test('GetTimestamp for --since', () => {
  const now = Date.UTC(2026, 10, 24, 19, 13, 43);
  assert.equal(getTimestamp('5s', now), String(now / 1000 - 5));
  assert.equal(getTimestamp('1795547618', now), '1795547618');
  assert.equal(getTimestamp('2026-11-24T19:12:18Z', now), `${Date.UTC(2026, 10, 24, 19, 12, 18) / 1000}.000000000`);
});

test('--cpus and --ulimit', () => {
  assert.equal(nanoCpus('0.5'), 500000000);
  assert.equal(nanoCpus('2'), 2000000000);
  assert.equal(nanoCpus('1.25'), 1250000000);
  assert.throws(() => nanoCpus('abc'));
  assert.deepEqual(parseUlimit('nofile=1024:2048'), { Name: 'nofile', Hard: 2048, Soft: 1024 });
  assert.deepEqual(parseUlimit('nproc=10'), { Name: 'nproc', Hard: 10, Soft: 10 });
});
