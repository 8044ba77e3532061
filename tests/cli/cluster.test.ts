// The job-runner recipes of docs/cluster, run on this machine with the variables their runners set:
// the shards merged must equal one whole run, and duplicates and lint must work on the merged file.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CocoDocument } from '../../src-main/core/formats/coco';
import { cliPath, repoRoot, runCli, tempDir } from '../helpers';
import { distinctScene } from './distinct-scene';

const manifestFile = path.join(repoRoot, 'docs/cluster/label-job.yaml');
const sbatchFile = path.join(repoRoot, 'docs/cluster/label-array.sbatch');

/** A bin folder with `fashion-detect` in it, put on PATH as an installed package would be. */
function installShim(): string {
  const bin = tempDir('fd-bin-');
  const shim = path.join(bin, 'fashion-detect');
  fs.writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${cliPath}" "$@"\n`);
  fs.chmodSync(shim, 0o755);
  return bin;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

const withoutInfo = (doc: CocoDocument) => ({ ...doc, info: {} });
const read = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as CocoDocument;

describe('labelling a folder with a Kubernetes Indexed Job or a Slurm job array', () => {
  let photos: string;
  let whole: CocoDocument;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    photos = tempDir('fd-cluster-photos-');
    for (let i = 1; i <= 7; i++) await distinctScene(path.join(photos, `scene${i}.jpg`), i);
    // A copy at half the size: a near-duplicate for `duplicates` on the merged file.
    await sharp(path.join(photos, 'scene3.jpg')).resize(180, 270).jpeg({ quality: 60 }).toFile(path.join(photos, 'scene3-small.jpg'));
    const out = path.join(tempDir(), 'whole.json');
    const r = await runCli(['label', photos, '--out', out, '--workers', '1']);
    expect(r.code, r.stderr).toBe(0);
    whole = read(out);
    const clean = { ...process.env };
    for (const key of Object.keys(clean)) if (/^(SLURM_|JOB_COMPLETION_INDEX|FASHION_DETECT_SHARD_COUNT)/.test(key)) delete clean[key];
    env = { ...clean, PATH: `${installShim()}${path.delimiter}${process.env.PATH}`, FASHION_DETECT_BACKEND: 'wasm' };
  });

  async function mergeAndCompare(labels: string, count: number): Promise<string> {
    const shards = fs.readdirSync(labels).filter((f) => /^shard-\d+\.json$/.test(f)).map((f) => path.join(labels, f));
    expect(shards.length).toBe(count);
    expect(shards.map((s) => read(s).info.shard).sort()).toEqual(Array.from({ length: count }, (_, k) => `${k + 1}/${count}`));
    const merged = path.join(labels, 'labels.json');
    const m = await run('fashion-detect', ['merge', ...shards, '--out', merged], env);
    expect(m.code, m.output).toBe(0);
    expect(withoutInfo(read(merged))).toEqual(withoutInfo(whole));
    return merged;
  }

  it('runs the Job manifest\'s command line once per index, and the merged shards equal one whole run', async () => {
    const job = parseYaml(fs.readFileSync(manifestFile, 'utf8'));
    expect(job.spec.completionMode).toBe('Indexed');
    const container = job.spec.template.spec.containers[0];
    const fromManifest = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(Number(fromManifest.SHARD_COUNT)).toBe(job.spec.completions);
    const labels = path.join(tempDir('fd-k8s-'), 'labels');
    const [shell, ...args] = container.command as string[];
    for (let index = 0; index < job.spec.completions; index++) {
      const r = await run(shell, args, { ...env, ...fromManifest, PHOTOS: photos, LABELS: labels, WORKERS: '1', JOB_COMPLETION_INDEX: String(index) });
      expect(r.code, r.output).toBe(0);
    }
    const merged = await mergeAndCompare(labels, job.spec.completions);

    // duplicates and lint work on the merged file, its photos found with --images.
    const dup = await runCli(['duplicates', merged, '--images', photos, '--json']);
    expect(dup.code, dup.stderr).toBe(0);
    expect(JSON.parse(dup.stdout)).toEqual({ groups: [['scene3.jpg', 'scene3-small.jpg']] });
    const lint = await runCli(['lint', merged, '--json']);
    expect([0, 3], lint.stderr).toContain(lint.code);
    const problems = JSON.parse(lint.stdout).problems as { score: number }[];
    expect(problems.length > 0).toBe(lint.code === 3);
  });

  it('runs the sbatch script once per array task, and the merged shards equal one whole run', async () => {
    const script = fs.readFileSync(sbatchFile, 'utf8');
    const array = /^#SBATCH --array=(\d+)-(\d+)$/m.exec(script);
    expect(array).not.toBeNull();
    const [min, max] = [Number(array![1]), Number(array![2])];
    const labels = path.join(tempDir('fd-slurm-'), 'labels');
    for (let id = min; id <= max; id++) {
      const r = await run('bash', [sbatchFile], {
        ...env,
        PHOTOS: photos,
        LABELS: labels,
        SLURM_ARRAY_JOB_ID: '4242',
        SLURM_ARRAY_TASK_ID: String(id),
        SLURM_ARRAY_TASK_COUNT: String(max - min + 1),
        SLURM_ARRAY_TASK_MIN: String(min),
        SLURM_ARRAY_TASK_MAX: String(max),
        SLURM_CPUS_PER_TASK: '1',
      });
      expect(r.code, r.output).toBe(0);
    }
    const merged = await mergeAndCompare(labels, max - min + 1);
    const lint = await runCli(['lint', merged]);
    expect([0, 3], lint.stderr).toContain(lint.code);
    expect(lint.stderr).toMatch(/labels\.json: 8 images/);
  });
});
