// Every installed model as a list shows it: the built-in ones (models/), the ones trained in the app
// (<userData>/models) and the folders added with "Add model folder…" (<userData>/model-folders.json),
// each with what its folder says about it: validation figures (metrics.json) and, for a model trained
// in the app, which photos it learnt from (training-set.json).
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../base/atomic-write.js';
import { UsageError } from '../base/errors.js';
import { modelFoldersFile, userDataDir, userModelsDir } from '../base/user-data.js';
import type { ModelManifest } from './manifest.js';
import { knownModelIds, modelDirs, modelsRoot, readManifest, readModelFolders, weightProblems } from './registry.js';

export type ModelSource = 'built-in' | 'trained' | 'folder';

/** The photos a model trained in the app learnt from and those held back, by their names in the workspace. */
export interface TrainingSet {
  /** The workspace's home folder the names are relative to (absolute names for photos outside it). */
  workspace: string | null;
  train: string[];
  val: string[];
  trainedAt: string;
}

export const TRAINING_SET_FILE = 'training-set.json';

export interface ValidationFigures {
  images: number;
  ap50: number | null;
  ap: number | null;
  perCategory: { name: string; ap50: number | null }[];
}

export interface InstalledModel {
  source: ModelSource;
  dir: string;
  /** The manifest's id, or the folder's name when the manifest cannot be read. */
  id: string;
  /** Undefined when the folder cannot be read as a model (see problem). */
  manifest?: ModelManifest;
  /** Why it cannot be used now: no readable manifest, weights missing or damaged. */
  problem?: string;
  validation?: ValidationFigures;
  trainingSet?: TrainingSet;
  /** ISO time a model trained in the app was finished. */
  trainedAt?: string;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The validation figures of metrics.json (written by train), where the folder has it. */
export function readValidation(dir: string): ValidationFigures | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8'))?.validation;
    if (!v || typeof v !== 'object') return undefined;
    const perCategory = Array.isArray(v.perCategory) ? v.perCategory.map((c: { name?: unknown; ap50?: unknown }) => ({ name: String(c.name), ap50: num(c.ap50) })) : [];
    return { images: Math.max(0, Math.round(num(v.images) ?? 0)), ap50: num(v.ap50), ap: num(v.ap), perCategory };
  } catch {
    return undefined;
  }
}

/** training-set.json of a model trained in the app, or undefined. */
export function readTrainingSet(dir: string): TrainingSet | undefined {
  try {
    const raw = JSON.parse(fs.readFileSync(path.join(dir, TRAINING_SET_FILE), 'utf8'));
    const names = (v: unknown) => (Array.isArray(v) ? v.filter((n): n is string => typeof n === 'string') : []);
    return { workspace: typeof raw.workspace === 'string' ? raw.workspace : null, train: names(raw.train), val: names(raw.val), trainedAt: String(raw.trainedAt ?? '') };
  } catch {
    return undefined;
  }
}

function describe(source: ModelSource, dir: string, checkWeights: boolean): InstalledModel {
  let manifest: ModelManifest;
  try {
    manifest = readManifest(dir);
  } catch (err) {
    return { source, dir, id: path.basename(dir), problem: (err as Error).message };
  }
  const problems = checkWeights ? weightProblems({ dir, manifest }) : manifest.weights.filter((w) => !fs.existsSync(path.join(dir, w.file))).map((w) => `${w.file} is missing`);
  const trainingSet = source === 'trained' ? readTrainingSet(dir) : undefined;
  const validation = readValidation(dir);
  let trainedAt: string | undefined;
  if (source === 'trained') trainedAt = trainingSet?.trainedAt || fs.statSync(path.join(dir, 'manifest.json')).mtime.toISOString();
  return {
    source,
    dir,
    id: manifest.id,
    manifest,
    ...(problems.length > 0 ? { problem: problems.join('; ') } : {}),
    ...(validation ? { validation } : {}),
    ...(trainingSet ? { trainingSet } : {}),
    ...(trainedAt ? { trainedAt } : {}),
  };
}

/**
 * Every installed model: built-in first (by id), then those trained in the app (oldest first), then
 * the added folders (in the order added). An id already listed is not listed again (resolveModel
 * finds the first). `checkWeights` hashes every weight file (slow for large models); without it only
 * missing files are problems.
 */
export function installedModels(options: { root?: string; dataDir?: string; checkWeights?: boolean } = {}): InstalledModel[] {
  const root = options.root ?? modelsRoot();
  const dataDir = options.dataDir ?? userDataDir();
  const check = options.checkWeights ?? false;
  const builtIn = modelDirs(root).map((dir) => describe('built-in', dir, check));
  builtIn.sort((a, b) => a.id.localeCompare(b.id));
  const trained = modelDirs(userModelsDir(dataDir)).map((dir) => describe('trained', dir, check));
  trained.sort((a, b) => (a.trainedAt ?? '').localeCompare(b.trainedAt ?? '') || a.id.localeCompare(b.id));
  const folders = readModelFolders(dataDir).map((dir) => (fs.existsSync(dir) ? describe('folder', dir, check) : { source: 'folder' as const, dir, id: path.basename(dir), problem: `${dir} is not there any more` }));
  const seen = new Set<string>();
  return [...builtIn, ...trained, ...folders].filter((m) => !seen.has(m.id) && (seen.add(m.id), true));
}

/**
 * Remembers a model folder (an Ultralytics tfjs export, or a model folder of ours) so that it is listed
 * and found by id from now on. Refused, with the reason, when it is not a usable model or its id is
 * taken by another model.
 */
export function addModelFolder(folder: string, dataDir = userDataDir()): InstalledModel {
  const dir = path.resolve(folder);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a folder`);
  const manifest = readManifest(dir);
  const problems = weightProblems({ dir, manifest });
  if (problems.length > 0) throw new UsageError(`${dir}: ${problems.join('; ')}`);
  const folders = readModelFolders(dataDir);
  if (!folders.includes(dir)) {
    if (knownModelIds(modelsRoot(), dataDir).includes(manifest.id)) {
      throw new UsageError(`a model with the id "${manifest.id}" is installed already; rename the folder ${path.basename(dir)} to add this one too`);
    }
    fs.mkdirSync(dataDir, { recursive: true });
    writeFileAtomic(modelFoldersFile(dataDir), JSON.stringify({ folders: [...folders, dir] }, null, 2) + '\n');
  }
  return describe('folder', dir, false);
}
