import { z } from 'zod';

const categorySchema = z.object({
  id: z.number().int().min(1),
  name: z.string().min(1),
  supercategory: z.string().default(''),
});

const nanodetOutput = z.object({
  decoder: z.literal('nanodet'),
  strides: z.array(z.number().int().positive()).min(1),
  /** Distance bins per box side (reg_max + 1). */
  bins: z.number().int().min(2),
  /** 'none' where the graph already applies a sigmoid to the class scores. */
  scoreActivation: z.enum(['none', 'sigmoid']).default('none'),
  /** Graph output names by level and kind; when absent they are matched by shape. */
  iouThreshold: z.number().min(0).max(1).default(0.6),
  /** Weighted NMS (nms.ts): suppressed boxes at this IoU or more are averaged into the kept one; absent: plain NMS. */
  mergeIou: z.number().min(0).max(1).optional(),
});

const yoloOutput = z.object({
  decoder: z.literal('yolo'),
  /** v5: [1, N, 5 + nc] with objectness; v8 and v11: [1, 4 + nc, N]. */
  variant: z.enum(['v5', 'v8']),
  iouThreshold: z.number().min(0).max(1).default(0.6),
});

/** For format 'fpn-head': where its features come from, checked by hash so a swapped base is refused. */
const baseSchema = z.object({
  /** The id of the base model folder under models/. */
  model: z.string().min(1),
  /** The base's files and their sha256, as that model's manifest lists them. */
  weights: z.array(z.object({ file: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) })).min(1),
  /** Graph nodes whose outputs are the pyramid levels, finest first, one per `output.strides`. */
  outputs: z.array(z.string().min(1)).min(1),
  /** int32 constants of the base graph to replace: the resize sizes that follow the input size. */
  int32Overrides: z.record(z.string(), z.array(z.number().int())).default({}),
});

/** For an 'fpn-head' that takes the wearer's body (models/pose.ts): the pose model it was trained with, checked by hash. */
const poseSchema = z.object({
  /** The pose model's folder under models/. */
  model: z.string().min(1),
  weights: z.array(z.object({ file: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) })).min(1),
});

export const manifestSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, dot, dash, underscore'),
  name: z.string().min(1),
  version: z.string().min(1),
  /**
   * 'tfjs-graph': one graph model, `modelFile`. 'fpn-head': the feature pyramid of another installed
   * model (`base`) with a head trained by `fashion-detect train`, whose weights are `modelFile`.
   */
  format: z.enum(['tfjs-graph', 'fpn-head']),
  /** The graph model's JSON file (or, for 'fpn-head', the head's JSON file), relative to the model folder. */
  modelFile: z.string().min(1),
  base: baseSchema.optional(),
  pose: poseSchema.optional(),
  input: z.object({
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    layout: z.enum(['NCHW', 'NHWC']),
    channels: z.enum(['RGB', 'BGR']),
    mean: z.tuple([z.number(), z.number(), z.number()]),
    std: z.tuple([z.number(), z.number(), z.number()]),
    padValue: z.number().int().min(0).max(255).default(0),
  }),
  output: z.discriminatedUnion('decoder', [nanodetOutput, yoloOutput]),
  /** The model's raw classes, in output order. */
  labels: z.array(z.string()).min(1),
  /** Raw class name to category name; when absent every label is its own category. */
  labelToCategory: z.record(z.string(), z.string()).optional(),
  /** The categories this model reports, as they appear in COCO exports. */
  categories: z.array(categorySchema).min(1),
  /**
   * Categories its training data labels with one box per photo at most (CCP: one box around all of
   * a category's pixels; `train` finds them). A second box of one of these in a photo is scored down.
   */
  singleInstanceCategories: z.array(z.number().int().min(1)).optional(),
  license: z.string().min(1),
  source: z.object({
    npm: z.string().optional(),
    files: z.record(z.string(), z.string()).optional(),
    url: z.string().optional(),
    trainedBy: z.string().optional(),
  }),
  weights: z.array(z.object({ file: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) })).min(1),
  /**
   * The minimum score the window's confidence slider and the command line start at for this model
   * (`train` writes where F1 peaked on its validation split); DEFAULT_MIN_SCORE where absent.
   */
  defaultMinScore: z.number().min(0).max(1).optional(),
}).refine((m) => m.format !== 'fpn-head' || m.base !== undefined, { message: "format 'fpn-head' needs a base", path: ['base'] });

export type ModelManifest = z.infer<typeof manifestSchema>;
type WeightFile = ModelManifest['weights'][number];

/** The first of the weight files a model was trained with that the installed ones lack or have with another sha256. */
export function firstDifferingWeight(trainedWith: readonly WeightFile[], installed: readonly WeightFile[]): WeightFile | undefined {
  return trainedWith.find((w) => installed.find((i) => i.file === w.file)?.sha256 !== w.sha256);
}

/** Where boxes are shown from for a model that names no default of its own. */
export const DEFAULT_MIN_SCORE = 0.35;

/** The score a model's boxes are shown from unless a person chooses another (without a model, the general default). */
export function defaultMinScoreOf(manifest: Pick<ModelManifest, 'defaultMinScore'> | undefined): number {
  return manifest?.defaultMinScore ?? DEFAULT_MIN_SCORE;
}
/** The IoU from which a suppressed box is averaged into its keeper (weighted NMS), where the model's output asks for it. */
export function mergeIouOf(manifest: Pick<ModelManifest, 'output'>): number | undefined {
  return manifest.output.decoder === 'nanodet' ? manifest.output.mergeIou : undefined;
}
export type ModelCategory = z.infer<typeof categorySchema>;

/** "fashion-ccp@1.3.0": a model as photos, files and logs name it. */
export const modelTag = (ref: { id: string; version: string }): string => `${ref.id}@${ref.version}`;
