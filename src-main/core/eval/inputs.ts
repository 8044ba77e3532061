import { z } from 'zod';
import { UsageError } from '../base/errors.js';

/**
 * The files the evaluator reads, checked loosely: COCO documents from other tools carry extra keys
 * (segmentation, licenses) and may leave out `area` or `iscrowd`, which default as in pycocotools.
 */
const box = z.tuple([z.number().finite(), z.number().finite(), z.number().finite().nonnegative(), z.number().finite().nonnegative()]);
const imageSchema = z.object({ id: z.number().int(), file_name: z.string().min(1) });
const categorySchema = z.object({ id: z.number().int(), name: z.string().min(1) });

const scoreSchema = z.number({
  error: (issue) => (issue.input === undefined ? 'missing: every prediction needs a score (is this a ground-truth file?)' : undefined),
});

const gtAnnotationSchema = z.object({
  id: z.number().int().optional(),
  image_id: z.number().int(),
  category_id: z.number().int(),
  bbox: box,
  area: z.number().finite().nonnegative().optional(),
  iscrowd: z.union([z.literal(0), z.literal(1), z.boolean()]).optional(),
});

const groundTruthSchema = z.object({
  images: z.array(imageSchema),
  annotations: z.array(gtAnnotationSchema),
  categories: z.array(categorySchema).min(1),
});

const scoredAnnotationSchema = z.object({
  image_id: z.number().int(),
  category_id: z.number().int(),
  bbox: box,
  score: scoreSchema,
});

const predictionDocumentSchema = z.object({
  images: z.array(imageSchema),
  annotations: z.array(scoredAnnotationSchema),
  categories: z.array(categorySchema).min(1),
});

/** One entry of a COCO results file; `file_name` may stand in for `image_id`. */
const resultEntrySchema = z
  .object({
    image_id: z.number().int().optional(),
    file_name: z.string().min(1).optional(),
    category_id: z.number().int(),
    bbox: box,
    score: scoreSchema,
  })
  .refine((r) => r.image_id !== undefined || r.file_name !== undefined, { message: 'needs image_id or file_name' });

export type GroundTruth = z.infer<typeof groundTruthSchema>;
export type GroundTruthAnnotation = z.infer<typeof gtAnnotationSchema>;
export type PredictionDocument = z.infer<typeof predictionDocumentSchema>;
export type ResultEntry = z.infer<typeof resultEntrySchema>;
/** A COCO document with scored annotations (what `fashion-detect label` writes), or a bare results array. */
export type Predictions = PredictionDocument | ResultEntry[];

function explain(source: string, error: z.ZodError): UsageError {
  const first = error.issues[0];
  return new UsageError(`${source}: ${first.path.join('.') || 'document'}: ${first.message}`);
}

export function parseGroundTruth(raw: unknown, source = 'ground truth'): GroundTruth {
  if (Array.isArray(raw)) throw new UsageError(`${source}: a results array, not a COCO document with images and categories; ground truth must be a COCO document`);
  const parsed = groundTruthSchema.safeParse(raw);
  if (!parsed.success) throw explain(source, parsed.error);
  const gt = parsed.data;
  const ids = new Set<number>();
  const names = new Set<string>();
  for (const img of gt.images) {
    if (ids.has(img.id)) throw new UsageError(`${source}: image id ${img.id} is used twice`);
    if (names.has(img.file_name)) throw new UsageError(`${source}: image ${img.file_name} is listed twice`);
    ids.add(img.id);
    names.add(img.file_name);
  }
  const catIds = new Set<number>();
  const catNames = new Set<string>();
  for (const c of gt.categories) {
    if (catIds.has(c.id)) throw new UsageError(`${source}: category id ${c.id} is used twice`);
    if (catNames.has(c.name)) throw new UsageError(`${source}: category name "${c.name}" is used twice`);
    catIds.add(c.id);
    catNames.add(c.name);
  }
  gt.annotations.forEach((a, i) => {
    if (!ids.has(a.image_id)) throw new UsageError(`${source}: annotations.${i} refers to image ${a.image_id}, which is not in images`);
    if (!catIds.has(a.category_id)) throw new UsageError(`${source}: annotations.${i} refers to category ${a.category_id}, which is not in categories`);
  });
  return gt;
}

export function parsePredictions(raw: unknown, source = 'predictions'): Predictions {
  if (Array.isArray(raw)) {
    const parsed = z.array(resultEntrySchema).safeParse(raw);
    if (!parsed.success) throw explain(source, parsed.error);
    return parsed.data;
  }
  const parsed = predictionDocumentSchema.safeParse(raw);
  if (!parsed.success) throw explain(source, parsed.error);
  const doc = parsed.data;
  const images = new Set(doc.images.map((i) => i.id));
  const categories = new Set(doc.categories.map((c) => c.id));
  doc.annotations.forEach((a, i) => {
    if (!images.has(a.image_id)) throw new UsageError(`${source}: annotations.${i} refers to image ${a.image_id}, which is not in images`);
    if (!categories.has(a.category_id)) throw new UsageError(`${source}: annotations.${i} refers to category ${a.category_id}, which is not in categories`);
  });
  return doc;
}
