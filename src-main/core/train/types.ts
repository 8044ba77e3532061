import type { OperatingPoint, ReviewEdits } from '../eval/coco-eval.js';

// The public types of `train`: its options, progress events and result. Shared by the parts of the
// engine and by model-card.ts, so none of them imports train.ts.

export interface TrainOptions {
  annotations: string;
  images: string;
  out: string;
  base?: string;
  /**
   * An installed 'fpn-head' model (id or folder) whose head and tail the training starts from: classes
   * matched by name, the others fresh (init-from-model.ts). Its width, context and tail units are the
   * defaults then.
   */
  init?: string;
  epochs?: number;
  valSplit?: number;
  batchSize?: number;
  learningRate?: number;
  /** Channels of the head's two 3x3 convolutions. */
  width?: number;
  /** Give the head a per-photo context bias (models/fpn-head.ts); on by default. */
  context?: boolean;
  /**
   * Give the head the wearer's body as an input (models/pose.ts): MoveNet Lightning runs on each photo,
   * in training and in the Detector. By default as the init model has it, else off.
   */
  pose?: boolean;
  /** Fine-tune the last units of the base's backbone (1 to 3) and its lateral into the pyramid with the head (models/tail.ts); 0 for none. */
  tailUnits?: number;
  /** The tail's learning rate as a share of the head's: it starts trained, so it moves slower. */
  tailLearningRate?: number;
  /**
   * Repeat-factor sampling (as LVIS training does): a photo with a category found on fewer than this
   * share of the training photos is shown more often, up to sqrt(share / frequency) times an epoch.
   * 0 turns it off.
   */
  repeatThreshold?: number;
  /** Threads that share each batch; by default one per core on the wasm backend, 1 on tfjs-node (already multi-threaded). */
  threads?: number;
  /**
   * Scale augmentation: each training photo is also read at this share of its size (mirrored for every
   * other photo), and shown so a quarter of the time. 1 turns it off.
   */
  zoomOut?: number;
  /**
   * Photos with image-level tags and no boxes (tags.ts), found under `tagImages`: they train too, with
   * the model's boxes for the categories each is tagged with, and every other category as absent.
   */
  tags?: string;
  tagImages?: string;
  /** Where the model's boxes on the tagged photos come from: a `label` file of them... */
  pseudoLabels?: string;
  /** ...or a model run on them (by default the default model). */
  pseudoModel?: string;
  /**
   * Weight of a photo-level multi-label loss on the pooled coarsest features (presence.ts), which trains
   * the shared layers from which categories each photo holds (tags included); 0 or absent for none.
   */
  presenceLoss?: number;
  /**
   * Keep an exponential moving average of the weights with this decay per step (weight-average.ts):
   * the model is the average. Absent for none.
   */
  emaDecay?: number;
  /** Model input; by default shaped like the photos. */
  input?: { width: number; height: number };
  seed?: number;
  /** Id, version, name, licence line and citation for the manifest and the model card. */
  id?: string;
  modelVersion?: string;
  name?: string;
  license?: string;
  citation?: string;
  /**
   * Where the pyramid of each photo is cached: between runs, and during one, read from there for each
   * batch; `false` keeps all of them in memory instead (features.ts's FEATURES_SIZE_NOTE).
   */
  cacheDir?: string | false;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  log?: (line: string) => void;
}

export interface TrainProgress {
  /** Finding the model's boxes on tagged photos, reading photos through the base, or training. */
  phase: 'pseudo-boxes' | 'features' | 'train';
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  /** Mean loss over this epoch so far. */
  loss?: number;
  /** Validation AP50 after the last finished epoch. */
  valAp50?: number | null;
  etaSeconds?: number;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  valAp50: number | null;
  valAp: number | null;
  /** With a weight average (`emaDecay`), the validation of the trained weights themselves. */
  unaveraged?: { valAp50: number | null; valAp: number | null };
  seconds: number;
}

export interface ValidationResult {
  images: number;
  ap: number | null;
  ap50: number | null;
  ap75: number | null;
  perCategory: { name: string; gtCount: number; ap: number | null; ap50: number | null }[];
  /** Where F1 at IoU 0.5 peaks: the model's default minimum score. */
  bestF1: OperatingPoint | null;
  /** The edits a reviewer makes per photo at that score (rounded as the manifest keeps it). */
  review?: ReviewEdits;
}

export interface TrainResult {
  status: 'finished' | 'stopped';
  out: string;
  epochsDone: number;
  epochs: number;
  validation?: ValidationResult;
  trainSeconds: number;
  /** The file names (as the COCO file gives them) of the photos trained on and of those held out for validation. */
  split?: { train: string[]; val: string[] };
}
