// Files a reader can take in at one sitting: no source file over 500 lines, no function (methods and
// arrow functions included, also in a Svelte component's script) over 100 lines.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers';

const MAX_FILE_LINES = 500;
const MAX_FUNCTION_LINES = 100;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(file);
    return /\.(ts|svelte)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [file] : [];
  });
}

/** The TypeScript of a file: the whole of a .ts file, the <script> blocks of a .svelte one (lines kept in place). */
function scriptOf(file: string, text: string): string {
  if (!file.endsWith('.svelte')) return text;
  // Everything outside <script> becomes blank lines, so line numbers stay those of the file.
  let out = '';
  let last = 0;
  for (const m of text.matchAll(/(<script[^>]*>)([\s\S]*?)<\/script>/g)) {
    const start = m.index! + m[1].length;
    out += text.slice(last, start).replace(/[^\n]/g, ' ') + m[2];
    last = start + m[2].length;
  }
  return out + text.slice(last).replace(/[^\n]/g, ' ');
}

/** Functions longer than the limit: "file:line name (N lines)". */
export function longFunctions(file: string, text: string, limit = MAX_FUNCTION_LINES): string[] {
  const source = ts.createSourceFile(file, scriptOf(file, text), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      const name = node.name && ts.isIdentifier(node.name) ? node.name.text : '(anonymous)';
      if (lines > limit) found.push(`${path.relative(repoRoot, file)}:${first + 1} ${name} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Lines as an editor counts them: a final newline does not start another. */
function lineCount(text: string): number {
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

const files = [...sourceFiles(path.join(repoRoot, 'src-main')), ...sourceFiles(path.join(repoRoot, 'src-renderer/src'))];

describe('sizes', () => {
  it(`no source file in src-main or src-renderer is over ${MAX_FILE_LINES} lines`, () => {
    const long = files
      .map((f) => ({ f, lines: lineCount(fs.readFileSync(f, 'utf8')) }))
      .filter(({ lines }) => lines > MAX_FILE_LINES)
      .map(({ f, lines }) => `${path.relative(repoRoot, f)} (${lines} lines)`);
    expect(long).toEqual([]);
  });

  it(`no function in them is over ${MAX_FUNCTION_LINES} lines`, () => {
    expect(files.flatMap((f) => longFunctions(f, fs.readFileSync(f, 'utf8')))).toEqual([]);
  });

  it('the measure finds a long function, a long method and one in a Svelte script', () => {
    const body = Array.from({ length: 101 }, (_, i) => `  x += ${i};`).join('\n');
    expect(longFunctions('a.ts', `function f() {\n  let x = 0;\n${body}\n}\n`)).toHaveLength(1);
    expect(longFunctions('b.ts', `class C {\n  m() {\n    let x = 0;\n${body}\n  }\n}\n`)).toHaveLength(1);
    expect(longFunctions('c.svelte', `<div></div>\n<script lang="ts">\n  const g = () => {\n    let x = 0;\n${body}\n  };\n</script>\n`)[0]).toMatch(/c\.svelte:3 /);
    expect(longFunctions('d.ts', 'function short() {\n  return 1;\n}\n')).toEqual([]);
  });
});
