// The workspace: the photos a person opened, their boxes and states, labelling with the detector
// pool, edits, autosave, import and export. Plain Node (no Electron): the desktop shell and the
// browser build's HTTP server both put the contract in front of it (handleApiCall).
//
// WorkspaceService is the contract's face and only hands each call to the part that does the job:
//   image-set.ts   the open photos (records, names, details, what a change does)
//   opening.ts     opening files, folders, dialogs and uploads; saved work restored (saved-work.ts)
//   labelling.ts   labelling on core's queue, with the batch's progress
//   autosave.ts    journal, snapshots and retries (project-store.ts is the file format)
//   editing.ts     a person's box lists, checked
//   exchange.ts    COCO import; COCO, YOLO and VOC export (split-export.ts: train and validation files)
//   near-duplicates.ts  groups of near-duplicate photos, the one kept of each (keep-choices.ts, saved)
//   unusual-boxes.ts    boxes that look wrong for their category (core/lint)
//   models.ts      the installed models, the switch to another, "Add model folder…" (model.ts: the one in use)
//   training.ts    training a model on the reviewed photos, in a process of its own
//   evaluation.ts  the model in use against the reviewed photos
//   statistics.ts, settings.ts, media.ts, categories.ts (the workspace's own category list)
import fs from 'node:fs';
import path from 'node:path';
import type { ApiEvent, ApiOutput, ApiParsedInput, ApiService, DialogHost, ImageDetail, MediaBytes, MediaKind, OpenResult, SaveInfo, TrainingStatus } from '../contract/api.js';
import { userDataDir } from '../core/base/user-data.js';
import type { ResolvedModel } from '../core/models/registry.js';
import type { TrainOptions } from '../core/train/types.js';
import { Autosave } from './autosave.js';
import { WorkspaceCategories } from './categories.js';
import { Editing } from './editing.js';
import { ModelEvaluation } from './evaluation.js';
import { Exchange } from './exchange.js';
import { BoxIds, ImageSet } from './image-set.js';
import { KeepChoices } from './keep-choices.js';
import { Labelling } from './labelling.js';
import { Downloads, WorkspaceMedia } from './media.js';
import { WorkspaceModel } from './model.js';
import { Models } from './models.js';
import { NearDuplicates } from './near-duplicates.js';
import { Opening } from './opening.js';
import { SavedWork } from './saved-work.js';
import { readChosenModel, readSaveLocation, writeSaveLocation } from './settings.js';
import { SplitExport } from './split-export.js';
import { statistics } from './statistics.js';
import { Training } from './training.js';
import { UnusualBoxes } from './unusual-boxes.js';

export interface WorkspaceOptions {
  /** The app's data folder: settings, thumbnail cache, projects saved "in the app's data folder", exports. */
  dataDir: string;
  /** Receives every event for the window (progress, image changes, saves, errors). */
  emit: (event: ApiEvent) => void;
  /** The detector model; the one chosen in the window last time, else the registry's default, when absent. */
  model?: ResolvedModel;
  /** Where models trained in the app, added model folders and trainings live: core's userDataDir() when absent. */
  userDataDir?: string;
  /** Options every training takes over the app's recipe (tests train tiny heads). */
  trainingOverrides?: Partial<TrainOptions>;
  /** Detector worker threads; one per core when absent. */
  workers?: number;
  /** Boxes below this score are not kept at all; the confidence slider works above it. */
  detectMinScore?: number;
  /** The desktop shell's native dialogs. */
  dialogs?: DialogHost;
  /**
   * Whether a path the renderer sent to openPaths may be read (the shell checks it came from a drop
   * or a dialog). Without it, openPaths refuses every path: the browser build uploads instead.
   */
  allowPath?: (absolutePath: string) => boolean;
  /** The browser build's upload folder: openUploads reads only here. */
  uploadsDir?: string;
  /** Newly opened images up to this many are labelled at once; larger sets wait for "Label all". */
  autoLabelLimit?: number;
}

export class WorkspaceService implements ApiService {
  private readonly model: WorkspaceModel;
  private readonly categories: WorkspaceCategories;
  private readonly images: ImageSet;
  private readonly savedWork: SavedWork;
  private readonly autosave: Autosave;
  private readonly labelling: Labelling;
  private readonly opening: Opening;
  private readonly editing: Editing;
  private readonly exchange: Exchange;
  private readonly mediaById: WorkspaceMedia;
  private readonly models: Models;
  private readonly training: Training;
  private readonly evaluation: ModelEvaluation;
  private readonly kept: KeepChoices;
  private readonly nearDuplicates: NearDuplicates;
  private readonly unusualBoxes: UnusualBoxes;
  private readonly splitExport: SplitExport;

  constructor(private readonly options: WorkspaceOptions) {
    const { dataDir, emit, dialogs } = options;
    fs.mkdirSync(dataDir, { recursive: true });
    const userData = options.userDataDir ?? userDataDir();
    const remembered = readChosenModel(dataDir);
    const model = (this.model = new WorkspaceModel(options.model, remembered ? { id: remembered, userData } : undefined));
    // Names a model adds to the list reach the window with the workspace.
    const categories = (this.categories = WorkspaceCategories.fromModel(model.resolved?.manifest.categories, () => emit({ type: 'workspace' })));
    const boxIds = new BoxIds();
    // Every change to a photo is saved: the image set tells the autosave, which reads the image set.
    const images = (this.images = new ImageSet(emit, { markDirty: (img) => this.autosave.markDirty(img), forget: (img) => this.autosave.forget(img) }));
    const savedWork = (this.savedWork = new SavedWork(dataDir, emit));
    const kept = (this.kept = new KeepChoices(() => this.autosave.keptChanged()));
    const autosave = (this.autosave = new Autosave({ images, savedWork, emit, dataDir, model, categories, kept, location: readSaveLocation(dataDir) }));
    const labelling = (this.labelling = new Labelling({ images, model, categories, boxIds, emit, workers: options.workers, detectMinScore: options.detectMinScore }));
    this.opening = new Opening({ images, savedWork, autosave, labelling, categories, model, kept, emit, dialogs, allowPath: options.allowPath, uploadsDir: options.uploadsDir, autoLabelLimit: options.autoLabelLimit });
    this.editing = new Editing(images, categories, autosave);
    const downloads = new Downloads();
    const nearDuplicates = (this.nearDuplicates = new NearDuplicates({ images, keeper: autosave, kept, emit }));
    this.exchange = new Exchange({ images, categories, labelling, boxIds, downloads, model, dataDir, dialogs, nearDuplicates });
    this.splitExport = new SplitExport({ exchange: this.exchange, nearDuplicates, downloads, dataDir, dialogs });
    this.unusualBoxes = new UnusualBoxes(images, categories, model);
    this.models = new Models({ model, categories, labelling, emit, dataDir, userData, dialogs });
    this.training = new Training({ images, categories, model, userData, emit, overrides: options.trainingOverrides });
    const trainingSet = () => (model.resolved ? this.models.find(model.resolved.manifest.id)?.trainingSet : undefined);
    this.evaluation = new ModelEvaluation({ images, categories, model, emit, trainingSet, workers: options.workers });
    this.mediaById = new WorkspaceMedia(images, downloads, dataDir, (id) => this.evaluation.plot(id));
  }

  // Reading the workspace

  async getWorkspace(): Promise<ApiOutput<'getWorkspace'>> {
    const { images, autosave } = this;
    const viewed = images.home && autosave.viewed !== null ? images.atFile(path.resolve(images.home, autosave.viewed)) : undefined;
    return {
      home: images.home,
      images: [...images.all()].map((img) => images.summary(img)),
      viewedImageId: viewed?.id ?? null,
      categories: this.categories.info,
      model: this.model.info(),
      save: autosave.info(),
      batch: this.labelling.batch,
      relabelable: this.labelling.relabelableCount(),
      training: this.training.status(),
      features: { dialogs: Boolean(this.options.dialogs), uploads: Boolean(this.options.uploadsDir) },
    };
  }

  async getImage(input: ApiParsedInput<'getImage'>): Promise<ImageDetail> {
    return this.images.readDetail(input.id);
  }

  async setViewedImage(input: ApiParsedInput<'setViewedImage'>): Promise<ApiOutput<'setViewedImage'>> {
    this.autosave.setViewed(this.images.nameFor(this.images.require(input.id).file));
    return { viewedImageId: input.id };
  }

  async getStatistics(input: ApiParsedInput<'getStatistics'>): Promise<ApiOutput<'getStatistics'>> {
    return statistics(this.images, this.categories, input.minScore);
  }

  async media(kind: MediaKind, id: string): Promise<MediaBytes | undefined> {
    return this.mediaById.get(kind, id);
  }

  // Opening and closing

  async openPaths(input: ApiParsedInput<'openPaths'>): Promise<OpenResult> {
    return this.opening.openPaths(input);
  }

  async openImagesDialog(): Promise<OpenResult> {
    return this.opening.openImagesDialog();
  }

  async openFolderDialog(): Promise<OpenResult> {
    return this.opening.openFolderDialog();
  }

  async openUploads(input: ApiParsedInput<'openUploads'>): Promise<OpenResult> {
    return this.opening.openUploads(input);
  }

  /** Opens a folder the app itself chose (the browser build's upload folder at start). */
  async openTrustedFolder(dir: string): Promise<OpenResult> {
    return this.opening.openTrustedFolder(dir);
  }

  async closeWorkspace(): Promise<{ closed: boolean }> {
    await this.labelling.cancel();
    await this.autosave.saveNow();
    this.images.clear();
    this.savedWork.clear();
    this.kept.clear();
    this.autosave.closeHome(readSaveLocation(this.options.dataDir));
    this.labelling.reset();
    // The next folder starts from the model's categories (or comes back with its own).
    this.categories.restore(this.model.resolved?.manifest.categories ?? []);
    this.options.emit({ type: 'workspace' });
    return { closed: true };
  }

  // Labelling

  async labelImages(input: ApiParsedInput<'labelImages'>): Promise<{ queued: number }> {
    return this.labelling.labelImages(input);
  }

  async labelAll(input: ApiParsedInput<'labelAll'> = { relabel: false }): Promise<{ queued: number }> {
    return this.labelling.labelAll(input);
  }

  async cancelLabelling(): Promise<{ cancelled: number }> {
    return this.labelling.cancel();
  }

  /** Starts the detector workers now, so the first photo dropped is labelled without waiting for the model to load. */
  warmUp(): void {
    this.labelling.warmUp();
  }

  // Editing

  async updateBoxes(input: ApiParsedInput<'updateBoxes'>): Promise<ApiOutput<'updateBoxes'>> {
    return this.editing.updateBoxes(input);
  }

  // Saving

  async saveNow(): Promise<SaveInfo> {
    return this.autosave.saveNow();
  }

  async setSaveLocation(input: ApiParsedInput<'setSaveLocation'>): Promise<SaveInfo> {
    writeSaveLocation(this.options.dataDir, input.location);
    return this.autosave.moveTo(input.location);
  }

  // Import and export

  async exportAnnotations(input: ApiParsedInput<'exportAnnotations'>): Promise<ApiOutput<'exportAnnotations'>> {
    return this.exchange.exportAnnotations(input);
  }

  async importCoco(input: ApiParsedInput<'importCoco'>): Promise<ApiOutput<'importCoco'>> {
    return this.exchange.importCoco(input);
  }

  async exportSplit(input: ApiParsedInput<'exportSplit'>): Promise<ApiOutput<'exportSplit'>> {
    return this.splitExport.exportSplit(input);
  }

  // Clean data sets: near-duplicates and boxes that look wrong

  async getNearDuplicates(input: ApiParsedInput<'getNearDuplicates'>): Promise<ApiOutput<'getNearDuplicates'>> {
    return this.nearDuplicates.find(input);
  }

  async keepNearDuplicate(input: ApiParsedInput<'keepNearDuplicate'>): Promise<ApiOutput<'keepNearDuplicate'>> {
    return this.nearDuplicates.keep(input);
  }

  async getUnusualBoxes(input: ApiParsedInput<'getUnusualBoxes'>): Promise<ApiOutput<'getUnusualBoxes'>> {
    return this.unusualBoxes.find(input.minScore);
  }

  // Models, training and evaluation

  async listModels(): Promise<ApiOutput<'listModels'>> {
    return this.models.listModels();
  }

  async setModel(input: ApiParsedInput<'setModel'>): Promise<ApiOutput<'setModel'>> {
    return this.models.setModel(input);
  }

  async addModelFolder(): Promise<ApiOutput<'addModelFolder'>> {
    return this.models.addModelFolder();
  }

  async getTrainingEstimate(input: ApiParsedInput<'getTrainingEstimate'>): Promise<ApiOutput<'getTrainingEstimate'>> {
    return this.training.estimate(input.minScore);
  }

  async startTraining(input: ApiParsedInput<'startTraining'>): Promise<TrainingStatus> {
    return this.training.start(input);
  }

  async cancelTraining(): Promise<TrainingStatus | null> {
    return this.training.cancel();
  }

  async evaluateModel(input: ApiParsedInput<'evaluateModel'>): Promise<ApiOutput<'evaluateModel'>> {
    return this.evaluation.evaluate(input.minScore);
  }

  /** Writes everything, stops the detector workers and lets a training save its checkpoint (the app is quitting). */
  async close(): Promise<void> {
    this.labelling.stopSending();
    await Promise.all([this.autosave.close(), this.training.close()]);
    await this.labelling.close();
  }
}
