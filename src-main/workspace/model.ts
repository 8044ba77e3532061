// The detector model the workspace labels with: the one the shell chose, else the registry's
// default; when none can be resolved, why (the window shows it, and labelling says so).
import type { Workspace } from '../contract/api.js';
import { defaultMinScoreOf } from '../core/models/manifest.js';
import { resolveModel, type ResolvedModel } from '../core/models/registry.js';

export class WorkspaceModel {
  readonly resolved: ResolvedModel | undefined;
  /** Why there is no model. */
  readonly problem: string | undefined;

  constructor(model: ResolvedModel | undefined) {
    if (!model) {
      try {
        model = resolveModel(undefined);
      } catch (err) {
        this.problem = (err as Error).message;
      }
    }
    this.resolved = model;
  }

  /** "id@version", as saved projects and exports name the model. */
  get tag(): string {
    return this.resolved ? `${this.resolved.manifest.id}@${this.resolved.manifest.version}` : 'none';
  }

  /** For the window: defaultMinScore is where its confidence slider starts. */
  info(): Workspace['model'] {
    const manifest = this.resolved?.manifest;
    const defaultMinScore = defaultMinScoreOf(manifest);
    return manifest ? { id: manifest.id, name: manifest.name, version: manifest.version, defaultMinScore } : { id: 'none', name: this.problem ?? 'no model', version: '', defaultMinScore };
  }
}
