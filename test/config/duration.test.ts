import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from '../../src/config/duration.ts';

describe('parseDuration', () => {
  test('accepts cib duration_str forms', () => {
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('30m'), 1_800_000);
    assert.equal(parseDuration('3600s'), 3_600_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1h 30m'), 5_400_000);
    assert.equal(parseDuration('2d'), 172_800_000);
    assert.equal(parseDuration('10min'), 600_000);
    assert.equal(parseDuration('2 hours'), 7_200_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
  });

  test('plain numbers are seconds', () => {
    assert.equal(parseDuration(90), 90_000);
    assert.equal(parseDuration('3600'), 3_600_000);
    assert.equal(parseDuration(0), 0);
  });

  test('rejects negatives, empty and junk with the input in the message', () => {
    assert.throws(() => parseDuration('-5m'), /invalid duration "-5m": must not be negative/);
    assert.throws(() => parseDuration(-1), /must not be negative/);
    assert.throws(() => parseDuration(''), /invalid duration "": empty/);
    assert.throws(() => parseDuration('   '), /empty/);
    assert.throws(() => parseDuration('1x'), /invalid duration "1x": unknown unit "x"/);
    assert.throws(() => parseDuration('h'), /invalid duration "h"/);
    assert.throws(() => parseDuration('1h junk'), /invalid duration "1h junk"/);
    assert.throws(() => parseDuration('1h-30m'), /invalid duration/);
    assert.throws(() => parseDuration(Number.NaN), /invalid duration/);
  });
});

describe('formatDuration', () => {
  test('formats compactly and round-trips', () => {
    assert.equal(formatDuration(3_600_000), '1h');
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(90_061_500), '1d1h1m1s500ms');
    assert.equal(formatDuration(0), '0s');
    for (const ms of [1, 999, 60_000, 86_400_000 * 3 + 7]) assert.equal(parseDuration(formatDuration(ms)), ms);
  });
});
