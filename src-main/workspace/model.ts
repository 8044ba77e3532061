// The detector model the workspace labels with: the one the shell chose, else the one chosen in the
// window last time (settings.json), else the registry's default; when none can be resolved, why (the
// window shows it, and labelling says so). The window may switch it (setModel).
import type { Workspace } from '../contract/api.js';
import { defaultMinScoreOf, modelTag } from '../core/models/manifest.js';
import { resolveModel, type ResolvedModel } from '../core/models/registry.js';

/** Which model labelled a photo: saved with it, shown in the list and the exports. */
export interface ModelRef {
  id: string;
  version: string;
}

export { modelTag };

/** "fashion-ccp@1.2.1" back to its parts (the project files of earlier versions name their model so). */
export function parseModelTag(tag: string | undefined): ModelRef | undefined {
  const at = tag?.lastIndexOf('@') ?? -1;
  if (!tag || at <= 0 || at === tag.length - 1) return undefined;
  return { id: tag.slice(0, at), version: tag.slice(at + 1) };
}

export class WorkspaceModel {
  private model: ResolvedModel | undefined;
  /** Why there is no model. */
  private why: string | undefined;

  constructor(model: ResolvedModel | undefined, remembered?: { id: string; userData: string }) {
    if (!model && remembered && !process.env.FASHION_DETECT_MODEL) {
      try {
        model = resolveModel(remembered.id, undefined, remembered.userData);
      } catch {
        // removed or damaged since: the default, as if none had been chosen
      }
    }
    if (!model) {
      try {
        model = resolveModel(undefined);
      } catch (err) {
        this.why = (err as Error).message;
      }
    }
    this.model = model;
  }

  get resolved(): ResolvedModel | undefined {
    return this.model;
  }

  get problem(): string | undefined {
    return this.why;
  }

  /** From now on photos are labelled with this one. */
  use(model: ResolvedModel): void {
    this.model = model;
    this.why = undefined;
  }

  get ref(): ModelRef | undefined {
    return this.model ? { id: this.model.manifest.id, version: this.model.manifest.version } : undefined;
  }

  /** "id@version", as saved projects and exports name the model. */
  get tag(): string {
    return this.ref ? modelTag(this.ref) : 'none';
  }

  /** For the window: defaultMinScore is where its confidence slider starts. */
  info(): Workspace['model'] {
    const manifest = this.model?.manifest;
    const defaultMinScore = defaultMinScoreOf(manifest);
    return manifest ? { id: manifest.id, name: manifest.name, version: manifest.version, defaultMinScore } : { id: 'none', name: this.why ?? 'no model', version: '', defaultMinScore };
  }
}
