import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../base/errors.js';
import { modelFoldersFile, userDataDir, userModelsDir } from '../base/user-data.js';
import { manifestSchema, type ModelManifest } from './manifest.js';
import { isUltralyticsExport, ultralyticsManifest } from './ultralytics.js';

/** A model folder whose manifest has been read and checked. */
export interface ResolvedModel {
  dir: string;
  manifest: ModelManifest;
}

/** Preferred default first: the fashion model where it is installed, else plain COCO NanoDet. */
export const DEFAULT_MODEL_IDS = ['fashion-ccp', 'coco-nanodet'];

/** models/ of the repository, or FASHION_DETECT_MODELS (the packaged app points it at its resources). */
export function modelsRoot(): string {
  if (process.env.FASHION_DETECT_MODELS) return path.resolve(process.env.FASHION_DETECT_MODELS);
  return path.join(packageRoot(), 'models');
}

/** The folder of fashion-detect's package.json, whether this runs from dist/ or from the TypeScript sources. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'fashion-detect') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the fashion-detect package above ${__dirname}`);
    dir = parent;
  }
}

export function readManifest(dir: string): ModelManifest {
  const file = path.join(dir, 'manifest.json');
  // A folder exported by Ultralytics (model.json + metadata.yaml) needs no manifest of its own.
  if (isUltralyticsExport(dir)) return ultralyticsManifest(dir);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no manifest.json in this model folder' : (err as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new UsageError(`${file}: ${first.path.join('.') || 'manifest'}: ${first.message}`);
  }
  return parsed.data;
}

/** The model folders directly under `root`: those with a manifest.json. */
export function modelDirs(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(root, e.name, 'manifest.json')))
    .map((e) => path.join(root, e.name));
}

export function listModels(root = modelsRoot()): ResolvedModel[] {
  return modelDirs(root)
    .map((dir) => ({ dir, manifest: readManifest(dir) }))
    .sort((a, b) => a.manifest.id.localeCompare(b.manifest.id));
}

/** Which weight files are missing or differ from the manifest's sha256. Empty when the model is ready. */
export function weightProblems(model: { dir: string; manifest: Pick<ModelManifest, 'weights'> }, describedBy = 'the manifest'): string[] {
  const problems: string[] = [];
  for (const w of model.manifest.weights) {
    const file = path.join(model.dir, w.file);
    if (!fs.existsSync(file)) {
      problems.push(`${w.file} is missing`);
      continue;
    }
    const sum = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    if (sum !== w.sha256) problems.push(`${w.file} has sha256 ${sum.slice(0, 12)}..., ${describedBy} says ${w.sha256.slice(0, 12)}...`);
  }
  return problems;
}

export function isInstalled(model: ResolvedModel): boolean {
  return model.manifest.weights.every((w) => fs.existsSync(path.join(model.dir, w.file)));
}

export function defaultModelId(root = modelsRoot()): string {
  const installed = listModels(root).filter(isInstalled).map((m) => m.manifest.id);
  const id = DEFAULT_MODEL_IDS.find((d) => installed.includes(d)) ?? installed[0];
  if (!id) throw new UsageError(`no model is installed under ${root}: run npm install to put the weights in place`);
  return id;
}

/** The folders added with "Add model folder…" (remembered in the app's data folder), in the order added. */
export function readModelFolders(dataDir = userDataDir()): string[] {
  try {
    const raw = JSON.parse(fs.readFileSync(modelFoldersFile(dataDir), 'utf8')) as { folders?: unknown };
    return Array.isArray(raw.folders) ? raw.folders.filter((f): f is string => typeof f === 'string' && path.isAbsolute(f)) : [];
  } catch {
    return [];
  }
}

/** The manifest id of a folder, or undefined when it cannot be read (it is then listed with its problem). */
function folderId(dir: string): string | undefined {
  try {
    return readManifest(dir).id;
  } catch {
    return undefined;
  }
}

/**
 * Where a model id lives: a folder under the built-in models, else one trained in the app
 * (`<userData>/models/<id>`), else an added folder whose manifest has that id.
 */
function findModelDir(id: string, root: string, dataDir: string): string | undefined {
  const builtIn = path.join(root, id);
  if (fs.existsSync(builtIn)) return builtIn;
  const trained = path.join(userModelsDir(dataDir), id);
  if (fs.existsSync(path.join(trained, 'manifest.json'))) return trained;
  return readModelFolders(dataDir).find((dir) => fs.existsSync(dir) && folderId(dir) === id);
}

/** Every model id that can be named: built-in, trained in the app, added folders. */
export function knownModelIds(root = modelsRoot(), dataDir = userDataDir()): string[] {
  const trained = modelDirs(userModelsDir(dataDir)).map((dir) => path.basename(dir));
  const folders = readModelFolders(dataDir).map(folderId).filter((id): id is string => id !== undefined);
  return [...new Set([...listModels(root).map((m) => m.manifest.id), ...trained.sort(), ...folders])];
}

/**
 * A model by id (built-in, trained in the app, or an added folder: see findModelDir) or by the path of
 * a model folder (ours, with manifest.json, or an Ultralytics tfjs export). The weights are checked
 * against their sha256, so a damaged or swapped file is named instead of giving silent wrong boxes.
 */
export function resolveModel(ref: string | undefined, root = modelsRoot(), dataDir = userDataDir()): ResolvedModel {
  // FASHION_DETECT_MODEL points the app (and a CLI run without --model) at another model or folder.
  const id = ref ?? (process.env.FASHION_DETECT_MODEL || undefined) ?? defaultModelId(root);
  const looksLikePath = id.includes('/') || id.includes('\\') || id.startsWith('.');
  const dir = looksLikePath ? path.resolve(id) : findModelDir(id, root, dataDir);
  if (!dir || !fs.existsSync(dir)) {
    const known = knownModelIds(root, dataDir).join(', ');
    throw new UsageError(`unknown model "${id}"; installed models: ${known || 'none'}`);
  }
  const model = { dir, manifest: readManifest(dir) };
  const problems = weightProblems(model);
  if (problems.length > 0) {
    throw new UsageError(`model ${model.manifest.id}: ${problems.join('; ')}. Run npm install to put the weights in place.`);
  }
  return model;
}
