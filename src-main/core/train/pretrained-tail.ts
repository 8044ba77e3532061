import { tf } from '../base/backend.js';
import { tailShape, tailTensorNames, type TailParams, type TailTensorName } from '../models/tail.js';

/** The base graph's weight node of each tail tensor (models/tail.ts): where a tuned tail starts from. */
const GRAPH_WEIGHTS: Record<TailTensorName, string> = {
  tail1a: 'PartitionedCall/split_18',
  tail1aBias: 'unknown_36',
  tail1b: 'PartitionedCall/split_19',
  tail1bBias: 'unknown_38',
  tail2a: 'PartitionedCall/split_20',
  tail2aBias: 'unknown_40',
  tail2b: 'PartitionedCall/split_21',
  tail2bBias: 'unknown_42',
  tail3a: 'PartitionedCall/split_22',
  tail3aBias: 'unknown_44',
  tail3b: 'PartitionedCall/split_23',
  tail3bBias: 'unknown_46',
  tailMerge: 'PartitionedCall/split_24',
  tailMergeBias: 'unknown_48',
  lateral: 'PartitionedCall/split_27',
  lateralBias: 'unknown_54',
};

/** A tail's weights as exported in the base graph (copies). */
export function pretrainedTail(graph: tf.GraphModel, units: number): TailParams {
  const weights = graph.weights;
  return Object.fromEntries(
    tailTensorNames(units).map((name) => {
      const node = GRAPH_WEIGHTS[name];
      const shape = tailShape(name);
      const t = weights[node]?.[0];
      if (!t || t.size !== shape.reduce((a: number, b: number) => a * b, 1)) throw new Error(`the base graph has no weight ${node} of shape ${shape.join('x')}`);
      return [name, tf.tidy(() => tf.cast(t, 'float32').reshape(shape))];
    }),
  );
}
