import type { CocoDocument } from '../formats/coco.js';
import { seededRandom } from '../base/random.js';
import { compareNames } from '../formats/labelled-images.js';

/** The photos a person keeps out: all but the first of each group (the first is the one kept). */
export function leftOutByGroups(groups: readonly (readonly string[])[]): Set<string> {
  return new Set(groups.flatMap((g) => g.slice(1)));
}

export interface NameSplit {
  train: string[];
  val: string[];
}

/**
 * A seeded train/validation split in which every near-duplicate group lies whole on one side, so no
 * photo is measured against a copy of itself. Groups and single photos are shuffled (from a sorted
 * start, so the input order does not matter) and taken into validation while they fit, until it holds
 * round(valFraction x photos), or as close below as the group sizes allow.
 */
export function splitNames(names: readonly string[], groups: readonly (readonly string[])[], valFraction: number, seed = 0): NameSplit {
  if (!(valFraction >= 0 && valFraction < 1)) throw new Error(`validation share ${valFraction} is not from 0 to below 1`);
  const all = [...new Set(names)].sort(compareNames);
  const present = new Set(all);
  const grouped = new Set<string>();
  const units: string[][] = [];
  for (const group of groups) {
    const members = [...new Set(group)].filter((n) => present.has(n) && !grouped.has(n));
    members.forEach((n) => grouped.add(n));
    if (members.length > 0) units.push(members);
  }
  for (const name of all) if (!grouped.has(name)) units.push([name]);
  units.sort((a, b) => compareNames([...a].sort(compareNames)[0], [...b].sort(compareNames)[0]));
  const random = seededRandom(seed ^ 0x5eed);
  for (let i = units.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [units[i], units[j]] = [units[j], units[i]];
  }
  const target = valFraction > 0 ? Math.min(all.length - 1, Math.max(1, Math.round(all.length * valFraction))) : 0;
  const val = new Set<string>();
  for (const unit of units) {
    if (val.size >= target) break;
    if (val.size + unit.length <= target) unit.forEach((n) => val.add(n));
  }
  return { train: all.filter((n) => !val.has(n)), val: all.filter((n) => val.has(n)) };
}

/** The part of a COCO document about the photos named: their images, their boxes, every category; ids kept. */
export function cocoSubset(doc: CocoDocument, fileNames: Iterable<string>, note?: Record<string, unknown>): CocoDocument {
  const keep = new Set(fileNames);
  const images = doc.images.filter((i) => keep.has(i.file_name));
  const ids = new Set(images.map((i) => i.id));
  return {
    info: { ...doc.info, ...note },
    licenses: doc.licenses,
    images,
    annotations: doc.annotations.filter((a) => ids.has(a.image_id)),
    categories: doc.categories,
  };
}

/** Train and validation COCO documents with every near-duplicate group on one side (splitNames). */
export function splitCoco(doc: CocoDocument, groups: readonly (readonly string[])[], valFraction: number, seed = 0): { train: CocoDocument; val: CocoDocument } {
  const split = splitNames(doc.images.map((i) => i.file_name), groups, valFraction, seed);
  const note = (part: string) => ({ split: { part, val_fraction: valFraction, seed, near_duplicate_groups: groups.length } });
  return { train: cocoSubset(doc, split.train, note('train')), val: cocoSubset(doc, split.val, note('val')) };
}

/** A COCO document without the near-duplicates a person leaves out (all but the first of each group). */
export function withoutNearDuplicates(doc: CocoDocument, groups: readonly (readonly string[])[]): CocoDocument {
  const out = leftOutByGroups(groups);
  return cocoSubset(doc, doc.images.map((i) => i.file_name).filter((n) => !out.has(n)), { near_duplicates_left_out: out.size });
}
