import { tf } from '../base/backend.js';
import { loadBaseGraph, NANODET_FPN } from './fpn-base.js';
import { loadGraphModel } from './graph-file.js';
import { headInference, loadHead } from './fpn-head.js';
import { inputTensorToBytes } from './input-tensor.js';
import { firstDifferingWeight } from './manifest.js';
import { bodyOf, keypointsOfBytes, loadPoseModel, poseMismatch, type PoseModel } from './pose.js';
import { resolveModel, type ResolvedModel } from './registry.js';
import { tailBaseOutputs } from './tail.js';

export { loadGraphModel } from './graph-file.js';

/** A model's forward pass: input tensor to output tensors, which the caller disposes. */
export interface Network {
  run(input: tf.Tensor): tf.Tensor[];
  dispose(): void;
}

/** The forward pass of an installed model: its graph, or for 'fpn-head' its base's pyramid and the trained head. */
export async function loadNetwork(model: ResolvedModel): Promise<Network> {
  if (model.manifest.format === 'fpn-head') return loadFpnHeadNetwork(model);
  const graph = await loadGraphModel(model.dir, model.manifest.modelFile);
  return {
    run: (input) => {
      const out = graph.execute(input);
      return Array.isArray(out) ? out : [out];
    },
    dispose: () => graph.dispose(),
  };
}

/**
 * An 'fpn-head' model: the base model's pyramid (its files checked against the hashes this manifest
 * was trained on) and the trained head. Outputs: per level, scores then distances.
 */
async function loadFpnHeadNetwork(model: ResolvedModel): Promise<Network> {
  const { manifest } = model;
  const base = manifest.base!;
  const baseModel = resolveModel(base.model);
  const differs = firstDifferingWeight(base.weights, baseModel.manifest.weights);
  if (differs) throw new Error(`model ${manifest.id} was trained on ${base.model}'s ${differs.file} with sha256 ${differs.sha256.slice(0, 12)}..., but the installed one differs`);
  const { spec, params } = loadHead(model.dir, manifest.modelFile);
  // What is loaded so far, disposed together when a later check fails (and by the network's dispose).
  const held: { dispose(): void }[] = [{ dispose: () => tf.dispose(Object.values(params)) }];
  const disposeAll = () => held.forEach((h) => h.dispose());
  try {
    if (spec.numClasses !== manifest.labels.length || spec.bins !== (manifest.output as { bins?: number }).bins) {
      throw new Error(`model ${manifest.id}: the head's ${spec.numClasses} classes and ${spec.bins} bins do not match the manifest`);
    }
    const takes = spec.tailUnits > 0 ? tailBaseOutputs(spec.tailUnits) : NANODET_FPN.outputs;
    if (base.outputs.length !== takes.length) {
      throw new Error(`model ${manifest.id}: its head takes ${takes.length} outputs of the base (${spec.tailUnits > 0 ? `it carries ${spec.tailUnits} units of the backbone` : 'its pyramid'}), but the manifest names ${base.outputs.length}`);
    }
    const graph = await loadBaseGraph(baseModel.dir, baseModel.manifest.modelFile, manifest.input.width, manifest.input.height, base.int32Overrides);
    held.push(graph);
    const pose = spec.pose ? await loadPoseModel() : undefined;
    if (pose) held.push(pose.graph);
    const mismatch = pose && poseMismatch(manifest.pose, pose, manifest.id);
    if (mismatch) throw new Error(mismatch);
    return {
      run(input) {
        const body = pose && bodyOfInput(pose, input, manifest.input);
        const features = graph.execute(input, base.outputs) as tf.Tensor[];
        try {
          return headInference(features, params, spec.numClasses, body);
        } finally {
          tf.dispose(features);
        }
      },
      dispose: disposeAll,
    };
  } catch (err) {
    disposeAll();
    throw err;
  }
}

/** The wearer's body (pose.ts) on the picture an input tensor was made from. */
function bodyOfInput(pose: PoseModel, input: tf.Tensor, spec: ResolvedModel['manifest']['input']): Float32Array {
  const rgb = inputTensorToBytes(input, spec);
  return bodyOf(keypointsOfBytes(pose, rgb, spec.width, spec.height, spec.padValue), spec.height);
}
