import { backendDetails, initBackend } from '../core/base/backend.js';
import { isInstalled, listModels, modelsRoot, defaultModelId } from '../core/models/registry.js';
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
  const models = listModels().map((m) => ({
    id: m.manifest.id,
    name: m.manifest.name,
    version: m.manifest.version,
    input: `${m.manifest.input.width}x${m.manifest.input.height}`,
    categories: m.manifest.categories.map((c) => c.name),
    defaultMinScore: defaultMinScoreOf(m.manifest),
    license: m.manifest.license,
    installed: isInstalled(m),
    default: m.manifest.id === defaultModel,
  }));
  const info = {
    fashionDetect: version,
    node: process.versions.node,
    tfjs: backend.tfjs,
    backend: backend.backend,
    ...(backend.simd !== undefined ? { wasmSimd: backend.simd } : {}),
    sharp: (require('sharp') as typeof import('sharp')).versions,
    modelsFolder: modelsRoot(),
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
    `models in: ${info.modelsFolder}`,
    ...models.map(
      (m) => `  ${m.default ? '*' : ' '} ${m.id.padEnd(14)} ${m.version.padEnd(8)} ${m.input.padEnd(8)} ${m.installed ? '' : '(weights missing) '}${m.name}\n      categories: ${m.categories.join(', ')}\n      shows boxes from score ${m.defaultMinScore} up unless told otherwise\n      licence: ${m.license}`,
    ),
    '  (* the default model)',
  ];
  console.log(lines.join('\n'));
  return EXIT.ok;
}
