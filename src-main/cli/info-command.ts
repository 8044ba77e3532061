import { backendDetails, initBackend } from '../core/base/backend.js';
import { userDataDir, userModelsDir } from '../core/base/user-data.js';
import { installedModels } from '../core/models/installed.js';
import { modelsRoot, defaultModelId } from '../core/models/registry.js';
import { defaultMinScoreOf } from '../core/models/manifest.js';
import { EXIT } from './exit-codes.js';

export async function runInfo(opts: { json?: boolean }, version: string): Promise<number> {
  await initBackend();
  const backend = backendDetails();
  let defaultModel: string | null = null;
  try {
    defaultModel = defaultModelId();
  } catch {
    defaultModel = null;
  }
  // Built-in models, those trained in the app and the folders added there: --model takes any of their ids.
  const models = installedModels().map((m) => ({
    id: m.id,
    source: m.source,
    folder: m.dir,
    name: m.manifest?.name ?? m.id,
    version: m.manifest?.version ?? '',
    input: m.manifest ? `${m.manifest.input.width}x${m.manifest.input.height}` : '',
    categories: m.manifest?.categories.map((c) => c.name) ?? [],
    defaultMinScore: defaultMinScoreOf(m.manifest),
    license: m.manifest?.license ?? '',
    installed: !m.problem,
    ...(m.problem ? { problem: m.problem } : {}),
    default: m.id === defaultModel,
  }));
  const info = {
    fashionDetect: version,
    node: process.versions.node,
    tfjs: backend.tfjs,
    backend: backend.backend,
    ...(backend.simd !== undefined ? { wasmSimd: backend.simd } : {}),
    sharp: (require('sharp') as typeof import('sharp')).versions,
    modelsFolder: modelsRoot(),
    userModelsFolder: userModelsDir(),
    userData: userDataDir(),
    models,
  };
  if (opts.json) {
    console.log(JSON.stringify(info, null, 2));
    return EXIT.ok;
  }
  const lines = [
    `fashion-detect ${version} (Node ${info.node})`,
    `backend:   ${info.backend}${backend.backend === 'wasm' ? ` (WebAssembly${backend.simd ? ' with SIMD' : ''}; install @tensorflow/tfjs-node for native speed)` : ' (native TensorFlow through tfjs-node)'}`,
    `tfjs:      ${info.tfjs}`,
    `sharp:     ${info.sharp.sharp} (libvips ${info.sharp.vips})`,
    `models in: ${info.modelsFolder} (built in), ${info.userModelsFolder} (trained in the app)`,
    ...models.map(
      (m) =>
        `  ${m.default ? '*' : ' '} ${m.id.padEnd(14)} ${m.version.padEnd(8)} ${m.input.padEnd(8)} ${m.problem ? `(${m.problem}) ` : ''}${m.name}` +
        `${m.source === 'built-in' ? '' : `\n      ${m.source === 'trained' ? 'trained in the app' : 'added folder'}: ${m.folder}`}` +
        `\n      categories: ${m.categories.join(', ')}\n      shows boxes from score ${m.defaultMinScore} up unless told otherwise\n      licence: ${m.license}`,
    ),
    '  (* the default model)',
  ];
  console.log(lines.join('\n'));
  return EXIT.ok;
}
