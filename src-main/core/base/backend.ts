import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

export type BackendName = 'tensorflow' | 'wasm';

let chosen: Promise<BackendName> | undefined;

/**
 * tfjs-node (native TensorFlow) where it installed, else the WebAssembly backend with SIMD, its .wasm
 * files read from node_modules. Never the plain cpu backend: it is about 20 times slower.
 * FASHION_DETECT_BACKEND=wasm forces the fallback, for tests and benchmarks.
 */
export function initBackend(): Promise<BackendName> {
  chosen ??= pickBackend();
  return chosen;
}

async function pickBackend(): Promise<BackendName> {
  const wanted = process.env.FASHION_DETECT_BACKEND;
  if (wanted !== 'wasm') {
    try {
      // A variable module name keeps bundlers and the type checker from requiring the optional package.
      const nativeBinding = '@tensorflow/tfjs-node';
      require(nativeBinding);
      if (await tf.setBackend('tensorflow')) {
        await tf.ready();
        return 'tensorflow';
      }
    } catch {
      if (wanted === 'tensorflow') throw new Error('FASHION_DETECT_BACKEND=tensorflow, but @tensorflow/tfjs-node is not installed or does not load');
    }
  }
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  wasm.setWasmPaths(wasmDir + path.sep);
  // Threads do not work under Node; the pool runs one single-threaded backend per worker instead.
  wasm.setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('the WebAssembly backend of TensorFlow.js did not start');
  await tf.ready();
  return 'wasm';
}

export function backendDetails(): { backend: string; tfjs: string; simd?: boolean } {
  const details: { backend: string; tfjs: string; simd?: boolean } = { backend: tf.getBackend(), tfjs: tf.version.tfjs };
  if (tf.getBackend() === 'wasm') details.simd = Boolean(tf.env().getBool('WASM_HAS_SIMD_SUPPORT'));
  return details;
}

export { tf };
