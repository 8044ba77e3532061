// Where a training in the app keeps its things: <userData>/training/<model id>/ holds the request,
// the training file (train.json, tags.json), the log and the model folder being trained (model/, with
// its checkpoint). A finished model moves to <userData>/models/<id>/ with training-set.json (which
// photos it learnt from and which it held back); the training folder then goes.
import fs from 'node:fs';
import path from 'node:path';
import type { TrainingStatus } from '../contract/api.js';
import { writeFileAtomic } from '../core/base/atomic-write.js';
import { userModelsDir } from '../core/base/user-data.js';
import { TRAINING_SET_FILE, type TrainingSet } from '../core/models/installed.js';
import { knownModelIds } from '../core/models/registry.js';
import { CHECKPOINT_JSON } from '../core/train/checkpoint.js';

/** What request.json keeps of a training: enough to show it, resume it, and name its photos afterwards. */
export interface SavedRequest {
  modelId: string;
  name: string;
  epochs: number;
  minScore: number;
  categoryIds: number[];
  extraFiles: { kind: string; fileName: string }[];
  /** The head takes the wearer's pose; absent: as the model it starts from. */
  pose?: boolean;
  /** The workspace's home; photos' absolute paths to their names there. */
  workspace: string | null;
  photos: Record<string, string>;
  startedAt: string;
}

const trainingRoot = (userData: string) => path.join(userData, 'training');
export const trainingDir = (userData: string, id: string) => path.join(trainingRoot(userData), id);
export const timingsFile = (userData: string) => path.join(trainingRoot(userData), 'timings.json');
export const modelOut = (dir: string) => path.join(dir, 'model');

export function readRequest(dir: string): SavedRequest | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'request.json'), 'utf8')) as SavedRequest;
  } catch {
    return undefined;
  }
}

export function writeRequest(dir: string, request: SavedRequest): void {
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, 'request.json'), JSON.stringify(request, null, 1) + '\n');
}

/** A model id from a name: lower case, letters, digits, ".", "-" and "_". */
function slugOf(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/-+$/, '').slice(0, 60) || 'my-model';
}

/**
 * The id a training of this name gets: the id of an unfinished training of the same name (it is
 * resumed), else the name's slug, numbered when a model or a training already has it.
 */
export function idForName(userData: string, name: string): string {
  const slug = slugOf(name);
  const unfinished = readRequest(trainingDir(userData, slug));
  if (unfinished && unfinished.name === name) return slug;
  const taken = new Set(knownModelIds(undefined, userData));
  const root = trainingRoot(userData);
  if (fs.existsSync(root)) for (const entry of fs.readdirSync(root)) taken.add(entry);
  for (let n = 1; ; n++) {
    const id = n === 1 ? slug : `${slug}-${n}`;
    if (!taken.has(id)) return id;
  }
}

/** Whether a training left a checkpoint to resume from. */
export function hasCheckpoint(dir: string): boolean {
  return fs.existsSync(path.join(modelOut(dir), CHECKPOINT_JSON));
}

/** Epoch and step of a training's checkpoint, if it has one. */
export function checkpointAt(dir: string): { epoch: number; step: number } | undefined {
  try {
    const state = JSON.parse(fs.readFileSync(path.join(modelOut(dir), CHECKPOINT_JSON), 'utf8'));
    return { epoch: Number(state.epoch) || 0, step: Number(state.step) || 0 };
  } catch {
    return undefined;
  }
}

/** The status of an unfinished training found on disk (cancelled, or the app closed while it ran): it can be resumed. */
export function unfinishedStatus(dir: string, request: SavedRequest): TrainingStatus {
  const at = checkpointAt(dir);
  const where = at ? `at epoch ${at.epoch + 1} of ${request.epochs}` : 'before its first epoch';
  return {
    modelId: request.modelId,
    name: request.name,
    state: 'cancelled',
    phase: null,
    epoch: at?.epoch ?? 0,
    epochs: request.epochs,
    step: at?.step ?? 0,
    steps: 0,
    loss: null,
    valAp50: null,
    etaSeconds: null,
    message: `"${request.name}" stopped ${where}; its checkpoint is kept: train again with the same name and photos to resume`,
    canResume: true,
    comparison: null,
  };
}

/** The most recent unfinished training on disk, if any. */
export function latestUnfinished(userData: string): { dir: string; request: SavedRequest } | undefined {
  const root = trainingRoot(userData);
  if (!fs.existsSync(root)) return undefined;
  const found = fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => ({ dir: path.join(root, e.name), request: readRequest(path.join(root, e.name)) }))
    .filter((f): f is { dir: string; request: SavedRequest } => f.request !== undefined);
  return found.sort((a, b) => b.request.startedAt.localeCompare(a.request.startedAt))[0];
}

/**
 * The trained model joins the installed ones: training-set.json (and the comparison) written into its
 * folder, the folder moved to <userData>/models/<id> in one rename, the training folder removed.
 * Returns the model's new folder.
 */
export function installTrained(userData: string, dir: string, request: SavedRequest, split: { train: string[]; val: string[] }, extra: Record<string, unknown>): string {
  const out = modelOut(dir);
  const nameOf = (file: string) => request.photos[file] ?? file;
  const set: TrainingSet = { workspace: request.workspace, train: split.train.map(nameOf), val: split.val.map(nameOf), trainedAt: new Date().toISOString() };
  writeFileAtomic(path.join(out, TRAINING_SET_FILE), JSON.stringify(set, null, 1) + '\n');
  for (const [file, value] of Object.entries(extra)) writeFileAtomic(path.join(out, file), JSON.stringify(value, null, 1) + '\n');
  if (fs.existsSync(path.join(dir, 'log.txt'))) fs.copyFileSync(path.join(dir, 'log.txt'), path.join(out, 'training-log.txt'));
  const target = path.join(userModelsDir(userData), request.modelId);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.rmSync(target, { recursive: true, force: true });
  try {
    fs.renameSync(out, target);
  } catch {
    fs.cpSync(out, target, { recursive: true });
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return target;
}
