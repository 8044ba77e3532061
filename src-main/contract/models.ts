// Models, training and evaluation as the window sees them (issue: from review to a better model, in
// the window). Shared with the renderer: zod only.
import { z } from 'zod';

const score = z.number().min(0).max(1);
const figure = score.nullable();
const count = z.number().int().nonnegative();

/** Where an installed model comes from. */
export const modelSourceSchema = z.enum(['built-in', 'trained', 'folder']);

/** One installed model, as the "Model" list shows it. */
export const modelSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  version: z.string(),
  source: modelSourceSchema,
  /** Category names it reports. */
  categories: z.array(z.string()),
  license: z.string(),
  defaultMinScore: score,
  /** Figures on its own validation split, where the model folder has them (metrics.json). */
  validation: z
    .object({
      images: count,
      ap50: figure,
      ap: figure,
      perCategory: z.array(z.object({ name: z.string(), ap50: figure })),
    })
    .nullable(),
  /** ISO time a model trained in the app was finished; null for the others. */
  trainedAt: z.string().nullable(),
  /** Why it cannot be used now (weights missing or damaged), or null. */
  problem: z.string().nullable(),
});

/** What "Train model" offers: the reviewed photos it would learn from, per category, and how long an epoch takes. */
export const trainingEstimateSchema = z.object({
  /** Photos reviewed at the slider: a verified box and none left unverified (as a verified-only export). */
  reviewedPhotos: count,
  minimumPhotos: count,
  categories: z.array(z.object({ id: z.number().int().positive(), name: z.string(), examples: count })),
  /** Estimated seconds: once to read the photos (without the pose model), then per epoch. */
  setupSeconds: z.number().nonnegative(),
  secondsPerEpoch: z.number().nonnegative(),
  /** The wearer's pose as an input of the new model's head (the request's `pose`). */
  pose: z.object({
    /** What a request that does not say gets: the model it starts from takes the pose. */
    byDefault: z.boolean(),
    /** Seconds to read the photos with the pose model run on each (instead of setupSeconds). */
    setupSeconds: z.number().nonnegative(),
    /** Why the pose model cannot be used (not installed, damaged), or null. */
    problem: z.string().nullable(),
  }),
  /** The model whose weights a new one starts from (the model in use, where it can be), or null: a new head. */
  startsFrom: z.string().nullable(),
  /** Null when training can start; else why not and what to do. */
  refusal: z.string().nullable(),
});

/** Extra training data: a COCO file (boxes) or a tags file (image-level tags), its photos found among the open photos by file name. */
export const trainingFileSchema = z.object({
  kind: z.enum(['coco', 'tags']),
  fileName: z.string().min(1).max(1024),
  text: z.string().max(256 * 1024 * 1024),
});

export const trainingRequestSchema = z
  .object({
    name: z.string().trim().min(1, 'give the model a name').max(80),
    epochs: z.number().int().min(1).max(200),
    /** The workspace categories to learn; by default every category with an example. */
    categoryIds: z.array(z.number().int().positive()).max(1000).optional(),
    extraFiles: z.array(trainingFileSchema).max(20).default([]),
    /**
     * The head takes the wearer's pose (MoveNet runs on each photo, in training and with every
     * detection: it tells a skirt from a dress; labelling takes about 1.2x as long). By default as
     * the model it starts from.
     */
    pose: z.boolean().optional(),
    /**
     * The slider's score: a photo is reviewed when a person verified its boxes at it. By default the
     * score of the last getTrainingEstimate (the dialog asks for one when it opens).
     */
    minScore: z.number().min(0).max(1).optional(),
  })
  .strict();

/** Per category: the model in use and the new one on the same held-back reviewed photos. */
export const modelComparisonSchema = z.object({
  photos: count,
  current: z.object({ id: z.string(), ap50: figure, ap: figure }),
  trained: z.object({ id: z.string(), ap50: figure, ap: figure }),
  perCategory: z.array(z.object({ name: z.string(), boxes: count, currentAp50: figure, trainedAp50: figure, currentAp: figure, trainedAp: figure })),
});

export const trainingStatusSchema = z.object({
  /** The id the new model will have. */
  modelId: z.string(),
  name: z.string(),
  state: z.enum(['running', 'finished', 'cancelled', 'failed']),
  phase: z.enum(['preparing', 'pseudo-boxes', 'features', 'train', 'compare']).nullable(),
  epoch: count,
  epochs: count,
  step: count,
  steps: count,
  loss: z.number().nullable(),
  valAp50: figure,
  etaSeconds: z.number().nonnegative().nullable(),
  /** What went wrong, or what happened (cancelled: "the checkpoint is kept; Train again to resume"). */
  message: z.string().nullable(),
  /** A cancelled or interrupted run whose checkpoint is kept: the same request resumes it. */
  canResume: z.boolean(),
  comparison: modelComparisonSchema.nullable(),
});

/** "Evaluate": the model in use against the person's verified boxes. */
export const evaluationSchema = z.object({
  model: z.string(),
  minScore: score,
  /** Reviewed photos evaluated, and those left out because the model was trained on them. */
  photos: count,
  leftOut: count,
  overall: z.object({ boxes: count, ap50: figure, ap: figure, precision: figure, recall: figure }),
  perCategory: z.array(
    z.object({
      categoryId: z.number().int().positive(),
      name: z.string(),
      boxes: count,
      ap50: figure,
      ap: figure,
      precision: figure,
      recall: figure,
      /** A media id (kind "plot") of its precision-recall curve, or null. */
      plotId: z.string().nullable(),
    }),
  ),
  /** The curve of all categories together (kind "plot"). */
  plotId: z.string().nullable(),
});

export const evaluationProgressSchema = z.object({ done: count, total: count });

export type ModelSource = z.infer<typeof modelSourceSchema>;
export type ModelSummary = z.infer<typeof modelSummarySchema>;
export type TrainingEstimate = z.infer<typeof trainingEstimateSchema>;
export type TrainingRequest = z.output<typeof trainingRequestSchema>;
export type TrainingFile = z.infer<typeof trainingFileSchema>;
export type ModelComparison = z.infer<typeof modelComparisonSchema>;
export type TrainingStatus = z.infer<typeof trainingStatusSchema>;
export type Evaluation = z.infer<typeof evaluationSchema>;
export type EvaluationProgress = z.infer<typeof evaluationProgressSchema>;
