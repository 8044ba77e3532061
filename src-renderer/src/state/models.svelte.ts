// The models side of the window: the installed models and the one in use, switching (with the offer
// to relabel what nobody reviewed), a training from the window with its progress, and the evaluation
// of the model in use on the reviewed photos. Progress comes as events ('training', 'evaluation',
// 'models'); the workspace says how the last training ended when the window starts.
import { plural } from '$common/format';
import { call, onEvent, type ApiEvent, type Evaluation, type EvaluationProgress, type ModelSummary, type TrainingRequest, type TrainingStatus } from '../api';
import { labelAll } from '../actions/labelling';
import { errorText, messages } from './messages.svelte';
import { sync } from './sync.svelte';


/**
 * A model's name as the window shows it: a manifest's name may go on to describe it after a colon
 * ("Fashion (CCP), 13 categories: a head on NanoDet-m's feature pyramid, …"); the description stays
 * in the title (modelDetails).
 */
export function shortName(model: { name: string }): string {
  const cut = model.name.indexOf(': ');
  return (cut > 0 ? model.name.slice(0, cut) : model.name).trim() || model.name;
}

/** "Fashion (CCP), 13 categories 1.2.1". */
export const modelLabel = (model: { name: string; version: string }) => (model.version ? `${shortName(model)} ${model.version}` : shortName(model));

/** "top, pants, … · MIT · validation AP50 61.2% on 120 photos · trained in the app": what an option's title says. */
export function modelDetails(m: ModelSummary): string {
  const parts = [`${m.name} ${m.version}`, `Categories: ${m.categories.join(', ') || 'none'}`, `Licence: ${m.license || 'not stated'}`];
  if (m.validation?.ap50 != null) parts.push(`Validation AP50 ${percent(m.validation.ap50)} on ${plural(m.validation.images, 'photo')}`);
  parts.push(m.source === 'built-in' ? 'Comes with the app' : m.source === 'trained' ? `Trained in the app${m.trainedAt ? ` on ${new Date(m.trainedAt).toLocaleString()}` : ''}` : 'Added from a model folder');
  if (m.problem) parts.push(`Cannot be used: ${m.problem}`);
  return parts.join('\n');
}

/** A figure between 0 and 1 as "61.2%"; "—" where there is none (no box of that category). */
export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)}%`;
}

const isRunning = (s: TrainingStatus | null) => s?.state === 'running';
const progressOf = (s: TrainingStatus) => s.epoch * 1e6 + s.step;

/**
 * The training to show from what was heard (events, answers) and what a workspace fetched later says.
 * Of the same run, an end beats "running" and more progress beats less (a fetch may have left before
 * the last event); another run, as the workspace has it, is the newer one.
 */
export function laterTraining(heard: TrainingStatus | null, fetched: TrainingStatus | null): TrainingStatus | null {
  if (!heard || !fetched) return fetched ?? heard;
  if (heard.modelId !== fetched.modelId) return fetched;
  if (!isRunning(heard) && isRunning(fetched)) return heard;
  if (isRunning(heard) && isRunning(fetched)) return progressOf(fetched) >= progressOf(heard) ? fetched : heard;
  return fetched;
}

export class Models {
  list = $state.raw<ModelSummary[]>([]);
  currentId = $state<string | null>(null);
  current = $derived(this.list.find((m) => m.id === this.currentId) ?? null);
  /** Why the list could not be had, or null. */
  listProblem = $state<string | null>(null);
  switching = $state(false);
  /** Photos another model labelled that nobody reviewed. */
  relabelable = $derived(sync.workspace?.relabelable ?? 0);

  training = $state.raw<TrainingStatus | null>(null);
  /** The request of the last training started here: "Train again to resume" sends it again. */
  lastRequest = $state.raw<TrainingRequest | null>(null);
  /** The end of a training the person has seen (in the dialog), so the status bar stops pointing to it. */
  seenEnd = $state<string | null>(null);
  trainDialogOpen = $state(false);

  evaluation = $state.raw<Evaluation | null>(null);
  evaluationProgress = $state.raw<EvaluationProgress | null>(null);
  evaluating = $state(false);
  evaluationError = $state<string | null>(null);
  /** When the evaluation on screen was made (the reviewed photos may have changed since). */
  evaluatedAt = $state<Date | null>(null);
  evaluateDialogOpen = $state(false);

  constructor() {
    sync.listen({
      changed: (_delay, restart) => {
        if (!restart || !sync.workspace) return;
        this.training = laterTraining(this.training, sync.workspace.training);
        if (sync.workspace.model.id !== this.currentId) void this.loadList();
      },
    });
  }

  start(): void {
    onEvent((event) => this.onEvent(event));
    void this.loadList();
  }

  private onEvent(event: ApiEvent): void {
    if (event.type === 'training') this.training = event.training;
    else if (event.type === 'evaluation') this.evaluationProgress = event.progress;
    else if (event.type === 'models') void this.loadList();
  }

  async loadList(): Promise<void> {
    try {
      const { models, current } = await call('listModels', {});
      this.list = models;
      this.currentId = current;
      this.listProblem = null;
    } catch (err) {
      this.listProblem = errorText(err);
    }
  }

  /** "Fashion CCP 1.2.1" for an image's "fashion-ccp@1.2.1"; the tag itself for a model no longer installed. */
  describe(tag: string): string {
    const at = tag.lastIndexOf('@');
    const id = at > 0 ? tag.slice(0, at) : tag;
    const version = at > 0 ? tag.slice(at + 1) : '';
    const model = this.list.find((m) => m.id === id);
    return model ? modelLabel({ name: model.name, version: version || model.version }) : tag;
  }

  /** Labels from now on with this model, and offers to relabel what another model labelled and nobody reviewed. */
  async choose(id: string): Promise<boolean> {
    if (id === this.currentId) return true;
    this.switching = true;
    try {
      const { model, relabelable } = await call('setModel', { id });
      this.currentId = model.id;
      this.list = this.list.some((m) => m.id === model.id) ? this.list.map((m) => (m.id === model.id ? model : m)) : [...this.list, model];
      await sync.reload();
      const text = `${modelLabel(model)} labels the photos from now on`;
      if (relabelable > 0) messages.notify('info', `${text}. ${plural(relabelable, 'photo')} another model labelled and nobody reviewed can be labelled again (your verified boxes stay).`, undefined, { label: `Relabel ${plural(relabelable, 'photo')} nobody reviewed`, run: () => void labelAll(true) });
      else messages.notify('info', text);
      return true;
    } catch (err) {
      messages.report(err);
      return false;
    } finally {
      this.switching = false;
    }
  }

  /** The desktop app's "Add model folder…". */
  async addFolder(): Promise<void> {
    try {
      const { cancelled, model } = await call('addModelFolder', {});
      if (cancelled || !model) return;
      await this.loadList();
      messages.notify('info', `${modelLabel(model)} added`, undefined, { label: `Use ${shortName(model)}`, run: () => void this.choose(model.id) });
    } catch (err) {
      messages.report(err);
    }
  }

  /** Starts (or, with the same request as a cancelled run, resumes) a training; throws with the reason when it cannot start. */
  async startTraining(request: TrainingRequest): Promise<void> {
    this.lastRequest = request;
    this.training = await call('startTraining', request);
    this.seenEnd = null;
  }

  async cancelTraining(): Promise<void> {
    try {
      const status = await call('cancelTraining', {});
      if (status) this.training = status;
    } catch (err) {
      messages.report(err);
    }
  }

  /** The key of a training's end, for seenEnd. */
  endKey(status: TrainingStatus | null): string | null {
    return status && status.state !== 'running' ? `${status.modelId}:${status.state}` : null;
  }

  openTraining(): void {
    this.trainDialogOpen = true;
  }

  /** Runs the model in use over the reviewed photos; precision and recall at minScore. */
  async evaluate(minScore: number): Promise<void> {
    if (this.evaluating) return;
    this.evaluating = true;
    this.evaluationError = null;
    this.evaluationProgress = null;
    try {
      this.evaluation = await call('evaluateModel', { minScore });
      this.evaluatedAt = new Date();
    } catch (err) {
      this.evaluationError = errorText(err);
    } finally {
      this.evaluating = false;
    }
  }
}

export const models = new Models();
