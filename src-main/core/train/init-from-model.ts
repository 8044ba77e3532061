import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../base/backend.js';
import { OptionError } from '../base/errors.js';
import { headSpecSchema, headTensorShapes, loadHead, type HeadParams, type HeadShape, type HeadSpec } from '../models/fpn-head.js';
import { modelTag } from '../models/manifest.js';
import { resolveModel, type ResolvedModel } from '../models/registry.js';
import { tailTensorNames, type TailParams } from '../models/tail.js';
import { initHead } from './head-weights.js';

// Starting weights from an installed 'fpn-head' model (`init`): a person's few hundred photos then
// fine-tune a head that already knows fashion, rather than train one from nothing.

/** The model a training starts from: its manifest, and its head's shape. */
export interface InitModel {
  model: ResolvedModel;
  spec: HeadSpec;
  /** "id@version", as the checkpoint's settings and the model card name it. */
  tag: string;
}

/** The init model, checked: an 'fpn-head' model on the same base. Its weights are read later (initialHead). */
export function resolveInitModel(ref: string, baseId: string): InitModel {
  const model = resolveModel(ref);
  const { manifest } = model;
  if (manifest.format !== 'fpn-head' || manifest.base?.model !== baseId) {
    throw new OptionError((n) => `${n('init')} ${manifest.id}: training can start only from a model trained by fashion-detect on ${baseId}'s feature pyramid (as fashion-ccp is)`);
  }
  const spec = headSpecSchema.parse(JSON.parse(fs.readFileSync(path.join(model.dir, manifest.modelFile), 'utf8')));
  return { model, spec, tag: modelTag(manifest) };
}

/** Checks the head to train can take the init model's weights: the same width and input channels. */
export function checkInitShape(init: InitModel, shape: Pick<HeadShape, 'width' | 'inChannels'>): void {
  if (init.spec.width !== shape.width) {
    throw new OptionError((n) => `${n('init')} ${init.model.manifest.id} has a head of width ${init.spec.width}: leave out ${n('width')} or give ${init.spec.width}`);
  }
  if (init.spec.inChannels !== shape.inChannels) throw new OptionError((n) => `${n('init')} ${init.model.manifest.id} takes ${init.spec.inChannels} feature channels, not ${shape.inChannels}`);
}

/** The category name each raw class of a model reports, in output order. */
function classNames(model: ResolvedModel): string[] {
  const { labels, labelToCategory } = model.manifest;
  return labels.map((l) => (labelToCategory?.[l] ?? l).toLowerCase());
}

/**
 * The head a training starts from when it has an init model: that model's standardisation, its two
 * convolutions and photo-wide context, its distance outputs, and for each class of the same name
 * (case aside) its class output; classes it lacks start fresh (initHead). The tail is the init
 * model's own when both carry as many units, else the base graph's (`baseTail`).
 */
export function initialHead(shape: HeadShape, classes: readonly string[], init: InitModel, seed: number, baseTail: () => TailParams | undefined): { params: HeadParams; matched: string[] } {
  checkInitShape(init, shape);
  const source = loadHead(init.model.dir, init.model.manifest.modelFile).params;
  try {
    const sameTail = shape.tailUnits > 0 && init.spec.tailUnits === shape.tailUnits;
    const tail = sameTail ? Object.fromEntries(tailTensorNames(shape.tailUnits).map((n) => [n, source[n]!.clone()])) : shape.tailUnits > 0 ? baseTail() : undefined;
    const mean = source.featureMean.dataSync() as Float32Array;
    const std = source.featureStd.dataSync() as Float32Array;
    const fresh = initHead(shape, mean, std, seed, tail);
    const replace = (name: keyof HeadParams, value: tf.Tensor) => {
      fresh[name]?.dispose();
      (fresh as Record<string, tf.Tensor>)[name] = value;
    };
    for (const name of ['conv1', 'bias1', 'conv2', 'bias2'] as const) replace(name, source[name].clone());
    if (shape.context && source.context) replace('context', source.context.clone());
    if (shape.pose && source.pose) replace('pose', source.pose.clone());
    const sourceNames = classNames(init.model);
    const matchOf = classes.map((c) => sourceNames.indexOf(c.toLowerCase()));
    const { out, outBias } = outputColumns(shape, init.spec, fresh, source, matchOf);
    replace('out', out);
    replace('outBias', outBias);
    return { params: fresh, matched: classes.filter((_, i) => matchOf[i] >= 0) };
  } finally {
    tf.dispose(Object.values(source));
  }
}

/** The 1x1 output: matched class columns and every distance column copied from the source, the rest as initHead made them. */
function outputColumns(shape: HeadShape, spec: HeadSpec, fresh: HeadParams, source: HeadParams, matchOf: readonly number[]): { out: tf.Tensor; outBias: tf.Tensor } {
  const k = shape.numClasses + 4 * shape.bins;
  const sourceK = spec.numClasses + 4 * spec.bins;
  const out = Float32Array.from(fresh.out.dataSync());
  const bias = Float32Array.from(fresh.outBias.dataSync());
  const sourceOut = source.out.dataSync();
  const sourceBias = source.outBias.dataSync();
  // Column c of the new output takes column `from(c)` of the source's, or keeps its fresh value.
  const from = (c: number) => (c < shape.numClasses ? matchOf[c] : spec.bins === shape.bins ? spec.numClasses + (c - shape.numClasses) : -1);
  for (let c = 0; c < k; c++) {
    const s = from(c);
    if (s < 0) continue;
    bias[c] = sourceBias[s];
    for (let r = 0; r < shape.width; r++) out[r * k + c] = sourceOut[r * sourceK + s];
  }
  const shapes = headTensorShapes(shape);
  return { out: tf.tensor(out, shapes.out!), outBias: tf.tensor(bias, shapes.outBias!) };
}
