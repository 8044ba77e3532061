// The training time the window shows: what the last training here measured, converted to a recipe
// that runs the pose model on each read or not, else the two-core fallback.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateTraining, POSE_READ_RATIO, readTimings, timingsWithPose, writeTimings } from '../../src-main/core/train/estimate';
import { tempDir } from '../helpers';

describe('training estimate', () => {
  const recipe = { width: 96, tailUnits: 3 };

  it('uses what was measured for the same head, its reads scaled by whether MoveNet runs on them', () => {
    const file = path.join(tempDir('fd-timings-'), 'timings.json');
    const fallback = readTimings(file, { ...recipe, pose: false });
    expect(fallback.measuredAt).toBe('');
    expect(readTimings(file, { ...recipe, pose: true }).secondsPerRead).toBeCloseTo(fallback.secondsPerRead * POSE_READ_RATIO, 9);

    writeTimings(file, { secondsPerRead: 0.2, secondsPerPhotoEpoch: 0.3, area: 384 * 576, ...recipe, pose: true, measuredAt: '2026-12-01T00:00:00Z' });
    expect(readTimings(file, { ...recipe, pose: true })).toMatchObject({ secondsPerRead: 0.2, secondsPerPhotoEpoch: 0.3, pose: true });
    const withoutPose = readTimings(file, { ...recipe, pose: false });
    expect(withoutPose).toMatchObject({ secondsPerPhotoEpoch: 0.3, pose: false });
    expect(withoutPose.secondsPerRead).toBeCloseTo(0.2 / POSE_READ_RATIO, 9);
    // One read of the file gives both (the window shows the time with and without the pose).
    expect(timingsWithPose(withoutPose, true)).toMatchObject({ pose: true, measuredAt: '2026-12-01T00:00:00Z' });
    expect(timingsWithPose(withoutPose, true).secondsPerRead).toBeCloseTo(0.2, 9);
    // Another head: what was measured does not apply.
    expect(readTimings(file, { width: 64, tailUnits: 3, pose: true }).measuredAt).toBe('');

    // A file from before pose was recorded measured reads without it.
    const old = JSON.parse(fs.readFileSync(file, 'utf8'));
    delete old.pose;
    fs.writeFileSync(file, JSON.stringify(old));
    expect(readTimings(file, { ...recipe, pose: false }).secondsPerRead).toBe(0.2);
  });

  it('reads each training photo three times (plain, mirrored, smaller) and each validation photo once', () => {
    const timings = { secondsPerRead: 0.5, secondsPerPhotoEpoch: 1, area: 100 * 100, ...recipe, measuredAt: '' };
    // 100 photos: 85 train, 15 validation; at twice the area, twice the time.
    expect(estimateTraining(100, { width: 100, height: 200 }, timings)).toEqual({ setupSeconds: Math.round((3 * 85 + 15) * 0.5 * 2), secondsPerEpoch: 85 * 2 });
  });
});
