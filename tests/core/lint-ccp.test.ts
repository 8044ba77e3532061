// Measured on real labels: boxes of the CCP training set made wrong on purpose must rank near the top.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCocoStructure } from '../../src-main/core/lint/coco-input';
import { lintPhotos } from '../../src-main/core/lint/lint';
import { hasShared, sharedDataset, sharedSkipReason } from '../helpers';
import { spoil, type RawCoco } from './spoil-labels';

describe.skipIf(!hasShared)('lint on the CCP training labels', () => {
  if (!hasShared) console.log(`SKIP lint on the CCP training labels: ${sharedSkipReason}`);

  it('ranks most of 5% of boxes made wrong among the first 10% of boxes', () => {
    const text = fs.readFileSync(path.join(sharedDataset, 'train/annotations.json'), 'utf8');
    const shares: number[] = [];
    for (const seed of [1, 2, 3, 4, 5]) {
      const doc = JSON.parse(text) as RawCoco;
      const spoilt = spoil(doc, seed);
      const structure = checkCocoStructure(doc, 'annotations.json');
      expect(structure.faults).toEqual([]);
      const t0 = performance.now();
      const { ranking } = lintPhotos(structure.photos, structure.categories);
      const ms = performance.now() - t0;
      const first = new Set(ranking.slice(0, Math.round(ranking.length * 0.1)).map((r) => r.boxId));
      const caught = [...spoilt.keys()].filter((id) => first.has(id)).length;
      const byFault = (['swapped', 'moved', 'scaled'] as const).map((f) => {
        const ids = [...spoilt].filter(([, kind]) => kind === f).map(([id]) => id);
        return `${f} ${ids.filter((id) => first.has(id)).length}/${ids.length}`;
      });
      shares.push(caught / spoilt.size);
      console.log(
        `lint, seed ${seed}: ${caught} of ${spoilt.size} wrong boxes (${((100 * caught) / spoilt.size).toFixed(1)}%) among the first ${first.size} of ${ranking.length} ranked (${byFault.join(', ')}), in ${ms.toFixed(0)} ms`,
      );
    }
    console.log(`lint: mean ${((100 * shares.reduce((a, b) => a + b, 0)) / shares.length).toFixed(1)}% over ${shares.length} seeds`);
    for (const share of shares) expect(share).toBeGreaterThanOrEqual(0.7);
  });
});
