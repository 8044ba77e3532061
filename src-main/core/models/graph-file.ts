import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../base/backend.js';

/** Loads a tfjs graph model from local files only: the weights never come from the network. */
export async function loadGraphModel(dir: string, modelFile: string): Promise<tf.GraphModel> {
  const json = JSON.parse(fs.readFileSync(path.join(dir, modelFile), 'utf8'));
  const groups: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] = json.weightsManifest;
  const weightSpecs = groups.flatMap((g) => g.weights);
  const buffers = groups.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return tf.loadGraphModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData, format: json.format, signature: json.signature }),
  );
}
