import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration } from '../../src-main/common/format';

describe('sizes and durations as the CLI and the window write them', () => {
  it('formatBytes: binary multiples, one decimal under 10 of a unit and for GB', () => {
    expect([1, 1000, 1024, 64 * 1024, 1_500_000, 500 * 2 ** 20, 13.3e9].map(formatBytes)).toEqual(['1 byte', '1000 bytes', '1.0 KB', '64 KB', '1.4 MB', '500 MB', '12.4 GB']);
  });

  it('formatDuration: seconds, then minutes and seconds, then hours and minutes', () => {
    expect([42, 185, 3900, Infinity].map(formatDuration)).toEqual(['42 s', '3 min 05 s', '1 h 05 min', '?']);
  });
});
