// A workspace service for the tests of models, training and evaluation: every event checked against
// the contract and kept, a way to wait for one, and tiny models trained on drawn scenes.
import fs from 'node:fs';
import path from 'node:path';
import { apiEventSchema, type ApiEvent } from '../../src-main/contract/api';
import { train } from '../../src-main/core/train/train';
import { WorkspaceService, type WorkspaceOptions } from '../../src-main/workspace/service';
import { keepCategories, sceneDataset } from '../helpers';

export interface Harness {
  service: WorkspaceService;
  events: ApiEvent[];
  waitFor<T extends ApiEvent>(predicate: (e: ApiEvent) => e is T, what: string, timeoutMs?: number): Promise<T>;
  waitFor(predicate: (e: ApiEvent) => boolean, what: string, timeoutMs?: number): Promise<ApiEvent>;
}

export function startService(options: Partial<WorkspaceOptions> & { dataDir: string }): Harness {
  const events: ApiEvent[] = [];
  const waiters: { predicate: (e: ApiEvent) => boolean; resolve: (e: ApiEvent) => void }[] = [];
  const service = new WorkspaceService({
    workers: 1,
    autoLabelLimit: 0,
    allowPath: () => true,
    ...options,
    emit: (event) => {
      apiEventSchema.parse(event);
      events.push(event);
      for (const w of waiters.splice(0)) {
        if (w.predicate(event)) w.resolve(event);
        else waiters.push(w);
      }
    },
  });
  const waitFor = (predicate: (e: ApiEvent) => boolean, what: string, timeoutMs = 180_000) =>
    new Promise<ApiEvent>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      waiters.push({ predicate, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  return { service, events, waitFor: waitFor as Harness['waitFor'] };
}

export type TrainingEvent = Extract<ApiEvent, { type: 'training' }>;
export const isTraining = (e: ApiEvent): e is TrainingEvent => e.type === 'training';
export const batchEnded = (e: ApiEvent) => e.type === 'progress' && !e.batch.running;

/**
 * A tiny model (a head of width 8 on coco-nanodet, 224x320, one or two epochs) trained on drawn
 * scenes into `<userData>/models/<id>`, with the categories named (all four of the scenes by default),
 * renamed as `rename` says.
 */
export async function trainTinyModel(userData: string, id: string, options: { categories?: string[]; rename?: Record<string, string>; epochs?: number } = {}): Promise<string> {
  const dir = path.join(userData, 'scenes-for-models', id);
  fs.mkdirSync(dir, { recursive: true });
  let annotations = await sceneDataset(dir, 6);
  if (options.categories) annotations = keepCategories(annotations, options.categories, 'kept.json');
  if (options.rename) {
    const doc = JSON.parse(fs.readFileSync(annotations, 'utf8'));
    for (const c of doc.categories) c.name = options.rename[c.name] ?? c.name;
    fs.writeFileSync(annotations, JSON.stringify(doc));
  }
  const out = path.join(userData, 'models', id);
  const result = await train({ annotations, images: dir, out, epochs: options.epochs ?? 2, batchSize: 2, width: 8, valSplit: 0.2, input: { width: 224, height: 320 }, cacheDir: false, learningRate: 0.01 });
  if (result.status !== 'finished') throw new Error(`training ${id} did not finish`);
  return out;
}
