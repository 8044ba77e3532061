// The layers of .dependency-cruiser.cjs hold: no import circle, no import from a lower layer to a
// higher one (core below the workspace below the shells, the renderer through the contract only).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers';

const depcruise = path.join(repoRoot, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const config = path.join(repoRoot, '.dependency-cruiser.cjs');

/** Runs dependency-cruiser with the project's rules in `cwd`; its exit status counts the errors. */
function cruise(cwd: string, folders: string[]): { status: number | null; report: string } {
  const run = spawnSync(process.execPath, [depcruise, '--config', config, '--output-type', 'err-long', ...folders], { cwd, encoding: 'utf8' });
  return { status: run.status, report: `${run.stdout}${run.stderr}` };
}

function writeFiles(root: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
}

describe('layers', () => {
  it('the sources follow the layering rules, with no import circle', () => {
    const { status, report } = cruise(repoRoot, ['src-main', 'src-renderer/src']);
    expect(report).toContain('no dependency violations found');
    expect(status, report).toBe(0);
  });

  it('the rules do catch a lower layer importing a higher one, a circle, and the renderer reaching past the contract', () => {
    const root = tempDir('layers-');
    writeFiles(root, {
      'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true } }),
      'src-main/contract/api.ts': 'export const method = 1;\n',
      'src-main/core/base/errors.ts': "import { method } from '../../contract/api.js';\nexport const e = method;\n",
      'src-main/core/models/a.ts': "import { b } from './b.js';\nexport const a = b;\n",
      'src-main/core/models/b.ts': "import { a } from './a.js';\nimport { d } from '../detect/d.js';\nexport const b = a + d;\n",
      'src-main/core/detect/d.ts': 'export const d = 1;\n',
      'src-main/workspace/service.ts': 'export const service = 1;\n',
      'src-renderer/src/app.ts': "import { service } from '../../src-main/workspace/service';\nexport const app = service;\n",
    });
    const { status, report } = cruise(root, ['src-main', 'src-renderer/src']);
    expect(status).not.toBe(0);
    for (const rule of ['core-is-a-library', 'no-circular', 'core-models-below', 'renderer-through-the-contract']) expect(report).toContain(rule);
  });
});
