// The installed models as the window's "Model" list shows them (core's list mapped to the contract),
// the switch to another one (remembered in settings.json), and "Add model folder…".
import path from 'node:path';
import { ApiError, type ApiEvent, type ApiOutput, type ApiParsedInput, type DialogHost, type ModelSummary } from '../contract/api.js';
import { addModelFolder, installedModels, type InstalledModel } from '../core/models/installed.js';
import { defaultMinScoreOf, modelTag } from '../core/models/manifest.js';
import { resolveModel, type ResolvedModel } from '../core/models/registry.js';
import type { WorkspaceCategories } from './categories.js';
import type { Labelling } from './labelling.js';
import type { WorkspaceModel } from './model.js';
import { writeChosenModel } from './settings.js';

export interface ModelsOptions {
  model: WorkspaceModel;
  categories: WorkspaceCategories;
  labelling: Labelling;
  emit: (event: ApiEvent) => void;
  /** The app's settings folder (settings.json). */
  dataDir: string;
  /** Where models trained in the app and the list of added folders live (core's userDataDir). */
  userData: string;
  dialogs?: DialogHost;
}

/** A model of core's list as the window shows it. */
export function modelSummary(m: InstalledModel): ModelSummary {
  const manifest = m.manifest;
  return {
    id: m.id,
    name: manifest?.name ?? m.id,
    version: manifest?.version ?? '',
    source: m.source,
    categories: manifest?.categories.map((c) => c.name) ?? [],
    license: manifest?.license ?? '',
    defaultMinScore: defaultMinScoreOf(manifest),
    validation: m.validation ?? null,
    trainedAt: m.trainedAt ?? null,
    problem: m.problem ?? null,
  };
}

export class Models {
  constructor(private readonly options: ModelsOptions) {}

  /** Every installed model; the one in use is listed even when it came from elsewhere (a folder named by FASHION_DETECT_MODEL). */
  installed(): InstalledModel[] {
    const list = installedModels({ dataDir: this.options.userData });
    const current = this.options.model.resolved;
    if (current && !list.some((m) => m.id === current.manifest.id)) list.unshift({ source: 'folder', dir: current.dir, id: current.manifest.id, manifest: current.manifest });
    return list;
  }

  async listModels(): Promise<ApiOutput<'listModels'>> {
    return { models: this.installed().map(modelSummary), current: this.options.model.info().id };
  }

  /** The model's folder as core's list knows it (for a model trained in the app: the photos it learnt from). */
  find(id: string): InstalledModel | undefined {
    return this.installed().find((m) => m.id === id);
  }

  async setModel(input: ApiParsedInput<'setModel'>): Promise<ApiOutput<'setModel'>> {
    const listed = this.find(input.id);
    if (!listed) throw new ApiError(`no model "${input.id}" is installed`);
    if (listed.problem) throw new ApiError(`model ${input.id} cannot be used: ${listed.problem}`);
    let resolved: ResolvedModel;
    try {
      resolved = listed.source === 'folder' ? resolveModel(listed.dir) : resolveModel(input.id, undefined, this.options.userData);
    } catch (err) {
      throw new ApiError(`model ${input.id} cannot be used: ${(err as Error).message}`);
    }
    this.use(resolved);
    writeChosenModel(this.options.dataDir, input.id);
    return { model: modelSummary({ ...listed, manifest: resolved.manifest }), relabelable: this.options.labelling.relabelableCount() };
  }

  /** Photos labelled from now on get this model's boxes; its category names join the workspace's. */
  use(resolved: ResolvedModel): void {
    const { model, categories, labelling, emit } = this.options;
    const same = model.resolved?.dir === resolved.dir && model.tag === modelTag(resolved.manifest);
    model.use(resolved);
    categories.join(resolved.manifest.categories);
    if (!same) labelling.modelChanged();
    emit({ type: 'workspace' });
  }

  async addModelFolder(): Promise<ApiOutput<'addModelFolder'>> {
    const { dialogs } = this.options;
    if (!dialogs) {
      throw new ApiError('"Add model folder" is only in the desktop app: the browser build cannot open folders on this computer. Start the browser build with FASHION_DETECT_MODEL=<the model folder> to use one.');
    }
    const folder = await dialogs.chooseModelFolder();
    if (!folder) return { cancelled: true, model: null };
    let added: InstalledModel;
    try {
      added = addModelFolder(folder, this.options.userData);
    } catch (err) {
      throw new ApiError(`could not add ${path.basename(folder)}: ${(err as Error).message}`);
    }
    this.options.emit({ type: 'models' });
    return { cancelled: false, model: modelSummary(added) };
  }
}
