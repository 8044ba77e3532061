import { plural } from '../../common/format.js';
import { nearDuplicatePairs } from '../dedupe/groups.js';
import { hashFiles } from '../dedupe/hash-file.js';
import { compareNames } from '../formats/labelled-images.js';
import type { TrainImage } from './dataset.js';

/** A training photo left out because it is a near-copy of a validation photo. */
export interface ValidationCopy {
  /** The training photo's file name, "(tagged)" after it for a photo from the tags file. */
  photo: string;
  /** Its path, to leave it out by. */
  file: string;
  /** The validation photo it copies. */
  copyOf: string;
  /** Bits (of 128) in which their hashes differ. */
  distance: number;
}

const shownName = (image: TrainImage) => `${image.fileName}${image.negativeWeights ? ' (tagged)' : ''}`;

/**
 * The training photos (boxed or tagged) that are near-copies of a validation photo, by the
 * near-duplicate rule of `fashion-detect duplicates` with mirror images counted (training learns from
 * the mirror image too). A model measured on a copy of a photo it learnt from looks better than it is,
 * so these are left out of training; the validation photos stay, so runs on one split stay comparable.
 * A photo that cannot be read is left to the feature reader, which says why.
 */
export async function copiesOfValidation(train: readonly TrainImage[], val: readonly TrainImage[], signal?: AbortSignal): Promise<ValidationCopy[]> {
  if (train.length === 0 || val.length === 0) return [];
  const all = [...val, ...train];
  // Named by index: a boxed and a tagged photo may share a file name.
  const { photos } = await hashFiles(all.map((image, k) => ({ name: String(k), file: image.file })), { signal });
  const copies = new Map<number, ValidationCopy>();
  for (const pair of nearDuplicatePairs(photos, { mirror: true })) {
    const [a, b] = [Number(photos[pair.a].name), Number(photos[pair.b].name)];
    const [v, t] = a < val.length ? [a, b] : [b, a];
    if (v >= val.length || t < val.length) continue; // two validation photos, or two training photos
    const known = copies.get(t);
    if (!known || pair.distance < known.distance) copies.set(t, { photo: shownName(all[t]), file: all[t].file, copyOf: all[v].fileName, distance: pair.distance });
  }
  return [...copies.values()].sort((x, y) => compareNames(x.photo, y.photo));
}

/** "0907.jpg (of 0990.jpg)": a copy as the log and the model card name it. */
export const copyName = (copy: Pick<ValidationCopy, 'photo' | 'copyOf'>): string => `${copy.photo} (of ${copy.copyOf})`;

/** The log's line about the photos left out (the first ten named). */
export function describeValidationCopies(copies: readonly ValidationCopy[]): string {
  const more = copies.length > 10 ? `, and ${copies.length - 10} more` : '';
  return `${plural(copies.length, 'training photo')} left out as near-copies of validation photos: ${copies.slice(0, 10).map(copyName).join(', ')}${more}`;
}
