// Clean data sets in the workspace (issue 12), on real files: the detector's perceptual hash kept with
// each photo and saved, near-duplicate groups (altered copies among distinct photos), the photo kept
// of a group chosen, saved and taken back, exports that leave near-duplicates out, a split that keeps
// each group on one side, projects saved before hashes were kept, and boxes that look wrong.
// Needs the compiled detector worker: run `npx tsc -p .` first (npm test does).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, NearDuplicateGroup } from '../../src-main/contract/api';
import { isPhotoHash } from '../../src-main/core/dedupe/phash';
import { tempDir } from '../helpers';
import { alteredCopy, distinctPhotos, writeOutfitBoxes } from './dataset-photos';
import { batchEnded, startService, type Harness } from './service-harness';

const PHOTOS = 24;

describe('clean data sets in the workspace', () => {
  let dir: string;
  let dataDir: string;
  let h: Harness;
  let names: string[];
  /** The altered copies, by what they copy. */
  let copies: { half: string; recompressed: string; brightened: string };
  const idOf = async (service: Harness['service'], name: string) => (await service.getWorkspace()).images.find((i) => i.name === name)!.id;
  const namesOf = async (service: Harness['service'], group: NearDuplicateGroup) => {
    const ws = await service.getWorkspace();
    return group.images.map((g) => ws.images.find((i) => i.id === g.id)!.name);
  };
  /** Reads the saved project as the next opening would: the snapshot, with the journal's lines after it. */
  const savedProject = () => JSON.parse(fs.readFileSync(path.join(dir, '.fashion-detect', 'project.json'), 'utf8'));

  beforeAll(async () => {
    dir = tempDir('fd-dataset-');
    names = await distinctPhotos(dir, PHOTOS);
    copies = { half: `copy-half-${names[0]}`, recompressed: `copy-q55-${names[0]}`, brightened: `copy-bright-${names[1]}` };
    await alteredCopy(path.join(dir, names[0]), path.join(dir, copies.half), 'half');
    await alteredCopy(path.join(dir, names[0]), path.join(dir, copies.recompressed), 'recompressed');
    await alteredCopy(path.join(dir, names[1]), path.join(dir, copies.brightened), 'brightened');
    dataDir = tempDir('fd-dataset-data-');
    h = startService({ dataDir });
    await h.service.openPaths({ paths: [dir] });
  });

  afterAll(async () => {
    await h?.service.close();
  });

  it('keeps the hash the detector computed while labelling with each photo, and saves it', async () => {
    const labelled = [names[0], copies.half, copies.recompressed, names[1], copies.brightened];
    await h.service.labelImages({ ids: await Promise.all(labelled.map((n) => idOf(h.service, n))) });
    await h.waitFor(batchEnded, 'the labelling of five photos');
    // Only the labelled photos have a hash, and nothing was hashed apart from the detector.
    const found = await h.service.getNearDuplicates({ hashMissing: false });
    expect(found.hashed).toBe(labelled.length);
    expect(found.unhashed).toBe(PHOTOS + 3 - labelled.length);
    expect(h.events.some((e) => e.type === 'hashing')).toBe(false);
    expect(found.groups).toHaveLength(2);
    await h.service.saveNow();
    const saved = new Map<string, { hash?: unknown }>(savedProject().images.map((i: { name: string }) => [i.name, i]));
    for (const name of labelled) expect(isPhotoHash(saved.get(name)?.hash), name).toBe(true);
  });

  it('hashes the other photos when asked, with progress, and groups the altered copies with their original', async () => {
    const before = h.events.length;
    const found = await h.service.getNearDuplicates({ hashMissing: true });
    const hashing = h.events.slice(before).filter((e): e is Extract<ApiEvent, { type: 'hashing' }> => e.type === 'hashing').map((e) => e.progress);
    expect(hashing[0]).toEqual({ running: true, done: 0, total: PHOTOS - 2 });
    expect(hashing.at(-1)).toEqual({ running: false, done: PHOTOS - 2, total: PHOTOS - 2 });
    expect([found.hashed, found.unhashed]).toEqual([PHOTOS + 3, 0]);
    const groups = await Promise.all(found.groups.map((g) => namesOf(h.service, g)));
    // The original first: more pixels than the half-size copy, a larger file than the recompressed one.
    expect(groups.map((g) => [...g].sort())).toEqual([[copies.half, copies.recompressed, names[0]].sort(), [copies.brightened, names[1]].sort()].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    const first = found.groups[groups.findIndex((g) => g.includes(names[0]))];
    expect((await namesOf(h.service, first))[0]).toBe(names[0]);
    expect(first.chosen).toBe(false);
    expect(first.images[0].distance).toBe(0);
    for (const other of first.images.slice(1)) expect(other.distance).toBeLessThanOrEqual(found.maxDistance);
    // Distinct photos lie far apart: the distance is the grouping's own.
    expect(found.maxDistance).toBe(20);
    // Asked again: nothing left to hash.
    const again = h.events.length;
    await h.service.getNearDuplicates({ hashMissing: true });
    expect(h.events.slice(again).some((e) => e.type === 'hashing')).toBe(false);
  });

  it('keeps the photo a person chose, saved with the work; the previous choice sent back restores it', async () => {
    const found = await h.service.getNearDuplicates({ hashMissing: true });
    const group = found.groups.find((g) => g.images.length === 3)!;
    const half = await idOf(h.service, copies.half);
    const kept = await h.service.keepNearDuplicate({ groupId: group.id, imageId: half });
    expect(kept.previous).toBe(group.images[0].id);
    expect(kept.group.images[0].id).toBe(half);
    expect(kept.group.chosen).toBe(true);
    expect(kept.group.images.map((i) => i.id).sort()).toEqual(group.images.map((i) => i.id).sort());
    await expect(h.service.keepNearDuplicate({ groupId: group.id, imageId: await idOf(h.service, names[5]) })).rejects.toThrow(/not one of the near-duplicates/);
    await expect(h.service.keepNearDuplicate({ groupId: 'g999999', imageId: half })).rejects.toThrow(/no group g999999/);
    await h.service.close();

    // Opened again: the choice and the hashes of the labelled photos come back from the project (the
    // others are not saved before they are labelled: they are hashed again when asked for).
    h = startService({ dataDir });
    await h.service.openPaths({ paths: [dir] });
    const restored = await h.service.getNearDuplicates({ hashMissing: false });
    expect(restored.hashed).toBe(5);
    const same = restored.groups.find((g) => g.images.length === 3)!;
    expect(await namesOf(h.service, same)).toEqual(expect.arrayContaining([copies.half]));
    expect((await namesOf(h.service, same))[0]).toBe(copies.half);
    expect(same.chosen).toBe(true);

    // The window's undo: the previous choice sent back.
    const undone = await h.service.keepNearDuplicate({ groupId: same.id, imageId: await idOf(h.service, names[0]) });
    expect(undone.previous).toBe(await idOf(h.service, copies.half));
    await h.service.saveNow();
    expect(savedProject().kept).toEqual([names[0]]);
    await h.service.close();
    h = startService({ dataDir });
    await h.service.openPaths({ paths: [dir] });
    const back = (await h.service.getNearDuplicates({ hashMissing: false })).groups.find((g) => g.images.length === 3)!;
    expect((await namesOf(h.service, back))[0]).toBe(names[0]);
  });

  it('leaves near-duplicates out of an export, keeping the kept one of each group', async () => {
    const all = [...names, copies.half, copies.recompressed, copies.brightened];
    const coco = await writeOutfitBoxes(dir, all, path.join(tempDir('fd-dataset-coco-'), 'outfits.json'), names[5]);
    const imported = await h.service.importCoco({ text: fs.readFileSync(coco, 'utf8'), fileName: 'outfits.json' });
    expect(imported.matched).toBe(all.length);
    const plain = await h.service.exportAnnotations({ format: 'coco', filter: { minScore: 0, verifiedOnly: false, leaveOutNearDuplicates: false } });
    expect(plain.images).toBe(all.length);
    expect(plain.nearDuplicatesLeftOut).toBeUndefined();
    const result = await h.service.exportAnnotations({ format: 'coco', filter: { minScore: 0, verifiedOnly: false, leaveOutNearDuplicates: true } });
    expect(result.nearDuplicatesLeftOut).toBe(3);
    expect(result.images).toBe(all.length - 3);
    const doc = JSON.parse(fs.readFileSync(result.target!, 'utf8'));
    const exported = doc.images.map((i: { file_name: string }) => i.file_name);
    expect(exported).toContain(names[0]);
    expect(exported).not.toContain(copies.half);
    expect(exported).not.toContain(copies.recompressed);
    expect([exported.includes(names[1]), exported.includes(copies.brightened)].filter(Boolean)).toHaveLength(1);
    expect(doc.info.near_duplicates_left_out).toBe(3);
    // Every box of the kept photos is there.
    expect(doc.annotations).toHaveLength((all.length - 3) * 5);
  });

  it('splits an export into train and validation files with every group of near-duplicates on one side', async () => {
    const groups = await Promise.all((await h.service.getNearDuplicates({ hashMissing: true })).groups.map((g) => namesOf(h.service, g)));
    let groupsInVal = 0;
    for (let seed = 0; seed < 8; seed++) {
      const result = await h.service.exportSplit({ filter: { minScore: 0, verifiedOnly: false, leaveOutNearDuplicates: false }, val: 0.3, seed });
      expect(result.cancelled).toBe(false);
      expect(result.groups).toBe(2);
      const train = JSON.parse(fs.readFileSync(path.join(result.target!, 'train.json'), 'utf8'));
      const val = JSON.parse(fs.readFileSync(path.join(result.target!, 'val.json'), 'utf8'));
      const trainNames = new Set<string>(train.images.map((i: { file_name: string }) => i.file_name));
      const valNames = new Set<string>(val.images.map((i: { file_name: string }) => i.file_name));
      expect(trainNames.size + valNames.size).toBe(PHOTOS + 3);
      expect([...valNames].filter((n) => trainNames.has(n))).toEqual([]);
      expect(valNames.size).toBe(Math.round((PHOTOS + 3) * 0.3));
      expect([result.train.images, result.val.images]).toEqual([trainNames.size, valNames.size]);
      expect(result.train.downloadId).toMatch(/^x/);
      for (const group of groups) {
        const sides = new Set(group.map((n) => valNames.has(n)));
        expect(sides.size, `group ${group.join(', ')} with seed ${seed}`).toBe(1);
        if (sides.has(true)) groupsInVal++;
      }
      // Boxes go with their photos.
      expect(train.annotations.length + val.annotations.length).toBe((PHOTOS + 3) * 5);
    }
    // Groups are not merely kept out of validation.
    expect(groupsInVal).toBeGreaterThan(0);
    // With near-duplicates left out: only the kept photo of each group, and no group to keep together.
    const without = await h.service.exportSplit({ filter: { minScore: 0, verifiedOnly: false, leaveOutNearDuplicates: true }, val: 0.3, seed: 0 });
    expect([without.train.images + without.val.images, without.nearDuplicatesLeftOut, without.groups]).toEqual([PHOTOS, 3, 0]);
  });

  it('lists boxes that look wrong for their category, most suspicious first, with the reason', async () => {
    const unusual = await h.service.getUnusualBoxes({ minScore: 0 });
    expect(unusual.photos).toBe(PHOTOS + 3);
    expect(unusual.checkedBoxes).toBe((PHOTOS + 3) * 5);
    const top = unusual.boxes[0];
    const odd = await h.service.getImage({ id: await idOf(h.service, names[5]) });
    const footwear = (await h.service.getWorkspace()).categories.find((c) => c.name === 'footwear')!.id;
    const highShoe = odd.boxes.filter((b) => b.categoryId === footwear).sort((a, b) => a.bbox[1] - b.bbox[1])[0];
    expect([top.imageId, top.boxId]).toEqual([odd.id, highShoe.id]);
    expect(top.kind).toBe('unusual-box');
    expect(top.message).toMatch(/^unusually .*high.* footwear$/);
    expect(top.score).toBeGreaterThan(3);
    expect(unusual.boxes.map((b) => b.score)).toEqual([...unusual.boxes.map((b) => b.score)].sort((a, b) => b - a));
    // A box moved back where shoes are: no longer listed.
    const moved = odd.boxes.map((b) => (b.id === highShoe.id ? { ...b, bbox: [b.bbox[0], odd.height! * 0.9, b.bbox[2], b.bbox[3]] as typeof b.bbox } : b));
    await h.service.updateBoxes({ id: odd.id, boxes: moved });
    expect((await h.service.getUnusualBoxes({ minScore: 0 })).boxes.some((b) => b.boxId === highShoe.id)).toBe(false);
    // An empty box is said to be one.
    await h.service.updateBoxes({ id: odd.id, boxes: [...moved, { id: 'empty1', categoryId: footwear, score: 1, verified: true, bbox: [10, 10, 0, 30] }] });
    expect((await h.service.getUnusualBoxes({ minScore: 0 })).boxes[0]).toMatchObject({ boxId: 'empty1', kind: 'invalid-box', message: 'an empty box (0 × 30 pixels)' });
    await h.service.updateBoxes({ id: odd.id, boxes: moved });
  });

  it('hashes the photos of a project saved before hashes were kept, and saves their hashes', async () => {
    await h.service.close();
    // As an earlier version wrote it: no hash, no choices.
    const project = savedProject();
    for (const img of project.images) delete img.hash;
    delete project.kept;
    fs.writeFileSync(path.join(dir, '.fashion-detect', 'project.json'), JSON.stringify(project));
    fs.writeFileSync(path.join(dir, '.fashion-detect', 'journal.jsonl'), '');
    h = startService({ dataDir });
    await h.service.openPaths({ paths: [dir] });
    expect((await h.service.getNearDuplicates({ hashMissing: false })).hashed).toBe(0);
    const found = await h.service.getNearDuplicates({ hashMissing: true });
    expect(found.hashed).toBe(PHOTOS + 3);
    expect(found.groups).toHaveLength(2);
    expect(h.events.filter((e) => e.type === 'hashing').at(-1)).toEqual({ type: 'hashing', progress: { running: false, done: PHOTOS + 3, total: PHOTOS + 3 } });
    await h.service.saveNow();
    expect(savedProject().images.every((i: { hash?: unknown }) => isPhotoHash(i.hash))).toBe(true);
  });
});
