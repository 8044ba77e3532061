// Scale in the app: a folder of 10,000 photos (a few drawn JPEGs, hard-linked) opens in the workspace
// service, takes a COCO import of boxes for all of them, exports a valid COCO file of all of them, and
// comes back whole after a reopen. No timings here: `npm run bench -- --app-scale 10000` measures them.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cocoDocumentSchema, cocoProblems } from '../../src-main/core/formats/coco';
import { WorkspaceService } from '../../src-main/workspace/service';
import { drawScene, tempDir } from '../helpers';

const N = 10_000;

describe('a folder of 10,000 photos in the app', () => {
  it('opens, imports, exports valid COCO and reopens with everything restored', async () => {
    const dir = tempDir('fd-app-10k-');
    const originals: string[] = [];
    for (let k = 0; k < 5; k++) {
      const file = path.join(dir, `base${k}.jpg`);
      await (await drawScene(160, 240, k)).jpeg().toFile(file);
      originals.push(file);
    }
    for (let i = originals.length; i < N; i++) {
      const sub = path.join(dir, `part${String(Math.floor(i / 1000)).padStart(2, '0')}`);
      if (i % 1000 === 0 || i === originals.length) fs.mkdirSync(sub, { recursive: true });
      fs.linkSync(originals[i % originals.length], path.join(sub, `photo${String(i).padStart(5, '0')}.jpg`));
    }
    const dataDir = tempDir('fd-app-10k-data-');
    const errors: string[] = [];
    const make = () => new WorkspaceService({ dataDir, autoLabelLimit: 0, allowPath: () => true, emit: (e) => e.type === 'error' && errors.push(e.message) });

    const service = make();
    const opened = await service.openPaths({ paths: [dir] });
    expect(opened).toMatchObject({ added: N, restored: 0, problems: [] });
    const ws = await service.getWorkspace();
    expect(ws.images).toHaveLength(N);
    expect(new Set(ws.images.map((i) => i.name)).size).toBe(N);

    const doc = {
      images: ws.images.map((img, k) => ({ id: k + 1, file_name: img.name, width: 160, height: 240 })),
      annotations: ws.images.map((_, k) => ({ id: k + 1, image_id: k + 1, category_id: 1 + (k % 13), bbox: [10, 20, 60, 90], area: 5400, iscrowd: 0 })),
      categories: ws.categories.map((c) => ({ id: c.id, name: c.name, supercategory: c.supercategory })),
    };
    expect(await service.importCoco({ text: JSON.stringify(doc) })).toMatchObject({ matched: N, unmatched: 0, annotations: N, problems: [] });

    const exported = await service.exportAnnotations({ format: 'coco', filter: { minScore: 0, verifiedOnly: false } });
    expect(exported).toMatchObject({ images: N, annotations: N });
    const written = cocoDocumentSchema.parse(JSON.parse(fs.readFileSync(exported.target!, 'utf8')));
    expect(cocoProblems(written)).toEqual([]);
    expect(written.images.map((i) => i.file_name).sort()).toEqual(ws.images.map((i) => i.name).sort());
    await service.close();

    const again = make();
    try {
      expect(await again.openPaths({ paths: [dir] })).toMatchObject({ added: N, restored: N });
      const stats = await again.getStatistics({ minScore: 0 });
      expect(stats).toMatchObject({ images: N, labelled: N, failed: 0 });
      expect(stats.perCategory.reduce((n, c) => n + c.count, 0)).toBe(N);
      expect((await again.labelAll()).queued).toBe(0);
    } finally {
      await again.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(errors).toEqual([]);
  });
});
