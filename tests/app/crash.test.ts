// Crashes: a real process running the workspace service (tests/app/workspace-child.mjs) is killed with
// SIGKILL in the middle of a batch and in the middle of a save, then the folder is reopened. Every
// image the service reported saved is there with its boxes, the project files are valid, and the
// batch resumes with the images that were not saved, labelling none twice.
// Needs the compiled service and detector worker: run `npx tsc -p .` first (npm test does).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Box } from '../../src-main/contract/api';
import { loadProject } from '../../src-main/workspace/project-store';
import { WorkspaceService } from '../../src-main/workspace/service';
import { drawScene, repoRoot, tempDir } from '../helpers';

const childScript = path.join(repoRoot, 'tests/app/workspace-child.mjs');

interface Line {
  event: string;
  name?: string;
  state?: string;
  boxes?: Box[];
  restored?: number;
  added?: number;
  file?: string;
  tmp?: string;
  batch?: { done: number; failed: number; total: number };
}

/** Runs the child; `killWhen` sees every line so far and says when to SIGKILL it. */
function runChild(args: string[], killWhen?: (lines: Line[]) => boolean): Promise<{ lines: Line[]; signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [childScript, ...args], { env: { ...process.env, FASHION_DETECT_BACKEND: 'wasm' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Line[] = [];
    let partial = '';
    let stderr = '';
    let killed = false;
    child.stdout!.on('data', (d) => {
      partial += d;
      const complete = partial.split('\n');
      partial = complete.pop()!;
      for (const l of complete) if (l.trim()) lines.push(JSON.parse(l));
      if (!killed && killWhen?.(lines)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ lines, signal, code, stderr }));
  });
}

const savedLines = (lines: Line[]) => lines.filter((l) => l.event === 'saved');

/** The saved project as a fresh process would read it; fails the test if it cannot be read. */
function reload(dir: string, dataDir: string) {
  const project = loadProject(dir, dataDir);
  expect(project).toBeDefined();
  const projectFile = path.join(dir, '.fashion-detect', 'project.json');
  if (fs.existsSync(projectFile)) expect(JSON.parse(fs.readFileSync(projectFile, 'utf8')).format).toBe('fashion-detect-project');
  return project!;
}

async function photoFolder(n: number): Promise<{ dir: string; names: string[] }> {
  const dir = tempDir('fd-crash-');
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `look${String(i).padStart(2, '0')}.jpg`;
    await (await drawScene(160, 240, i)).jpeg().toFile(path.join(dir, name));
    names.push(name);
  }
  return { dir, names };
}

describe('SIGKILL in the middle of a batch', () => {
  it('keeps every result reported saved, and the resumed batch labels only the rest', async () => {
    const { dir, names } = await photoFolder(32);
    const dataDir = tempDir('fd-crash-data-');
    const first = await runChild(['label', '--dir', dir, '--data-dir', dataDir], (lines) => savedLines(lines).length >= 4);
    expect(first.signal, first.stderr).toBe('SIGKILL');
    const saved = savedLines(first.lines);
    const labelledFirst = new Set(first.lines.filter((l) => l.event === 'labelled').map((l) => l.name!));
    // Killed mid-batch: some results were reported saved, the batch was far from done.
    expect(saved.length).toBeGreaterThanOrEqual(4);
    expect(labelledFirst.size).toBeLessThan(names.length);

    const project = reload(dir, dataDir);
    expect(project.skippedLines).toBeLessThanOrEqual(1); // at most a torn last line
    for (const s of saved) {
      const back = project.images.get(s.name!);
      expect(back, s.name).toBeDefined();
      expect(back!.state).toBe(s.state);
      expect(back!.boxes).toEqual(s.boxes);
    }
    const persisted = new Set(project.images.keys());

    const second = await runChild(['label', '--dir', dir, '--data-dir', dataDir]);
    expect(second.code, second.stderr).toBe(0);
    // What the window tells the person: what is still to label, for Label all to go on with.
    expect(second.lines.find((l) => l.event === 'opened')).toMatchObject({ added: names.length, restored: persisted.size, waiting: names.length - persisted.size });
    const labelledSecond = second.lines.filter((l) => l.event === 'labelled').map((l) => l.name!);
    // Nothing labelled twice: not an image that was saved before the kill, and each image once.
    expect(labelledSecond.filter((n) => persisted.has(n))).toEqual([]);
    expect(new Set(labelledSecond).size).toBe(labelledSecond.length);
    // Everything else is labelled: the batch picks up where it stopped.
    expect([...persisted, ...labelledSecond].sort()).toEqual(names);
    expect(second.lines.find((l) => l.event === 'finished')).toMatchObject({ batch: { done: names.length - persisted.size, failed: 0, total: names.length - persisted.size } });

    const final = reload(dir, dataDir);
    expect([...final.images.keys()].sort()).toEqual(names);
    expect([...final.images.values()].every((i) => i.state === 'done')).toBe(true);
    for (const s of saved) expect(final.images.get(s.name!)!.boxes).toEqual(s.boxes);
  });
});

describe('SIGKILL in the middle of a save', () => {
  it('keeps a valid project with everything reported saved, at each step of the snapshot, also after a torn journal line', async () => {
    const { dir, names } = await photoFolder(8);
    const dataDir = tempDir('fd-crash-data-');
    const beside = path.join(dir, '.fashion-detect');
    const journal = path.join(beside, 'journal.jsonl');
    const temporaries = () => fs.readdirSync(beside).filter((f) => f.endsWith('.tmp'));
    const xOf = (name: string) => reload(dir, dataDir).images.get(name)?.boxes.map((b) => b.bbox[0]);

    // 1. A clean run: 3 edits, closed normally (snapshot written, journal emptied).
    const clean = await runChild(['edit', '--dir', dir, '--data-dir', dataDir, '--edits', '3']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(fs.readFileSync(journal, 'utf8')).toBe('');

    // 2. A crash tore the journal's last line (a half-written record), as a power cut can.
    fs.appendFileSync(journal, '{"t":"image","image":{"name":"look00.jpg","state":"done","box');

    // 3. All 8 edited again (x = 6), each reported saved; then killed while the snapshot's temporary
    //    file is written and fsynced but not yet renamed over project.json.
    const pausedProject = await runChild(['edit', '--dir', dir, '--data-dir', dataDir, '--edits', '8', '--shift', '1', '--pause-rename', 'project.json'], (lines) => lines.some((l) => l.event === 'paused'));
    expect(pausedProject.signal, pausedProject.stderr).toBe('SIGKILL');
    expect(savedLines(pausedProject.lines).map((l) => l.name).sort()).toEqual(names);
    const paused = pausedProject.lines.find((l) => l.event === 'paused')!;
    expect(path.basename(paused.file!)).toBe('project.json');
    expect(fs.existsSync(paused.tmp!)).toBe(true);
    let project = reload(dir, dataDir);
    expect(project.skippedLines).toBe(1); // the torn line, and only it
    for (const s of savedLines(pausedProject.lines)) expect(project.images.get(s.name!)!.boxes, s.name).toEqual(s.boxes);
    expect(names.map(xOf)).toEqual(names.map(() => [6]));

    // 4. Edited again (x = 7); killed after project.json was replaced but before the journal was emptied:
    //    the old journal lines are replayed over the new snapshot, which must change nothing.
    const pausedJournal = await runChild(['edit', '--dir', dir, '--data-dir', dataDir, '--edits', '8', '--shift', '2', '--pause-rename', 'journal.jsonl'], (lines) => lines.some((l) => l.event === 'paused'));
    expect(pausedJournal.signal, pausedJournal.stderr).toBe('SIGKILL');
    expect(savedLines(pausedJournal.lines)).toHaveLength(8);
    expect(fs.readFileSync(journal, 'utf8')).not.toBe('');
    project = reload(dir, dataDir);
    for (const s of savedLines(pausedJournal.lines)) expect(project.images.get(s.name!)!.boxes, s.name).toEqual(s.boxes);
    expect(names.map(xOf)).toEqual(names.map(() => [7]));
    expect(temporaries().length).toBeGreaterThanOrEqual(2);

    // 5. Reopened normally: everything restored, and its own snapshot clears the leftovers of the crashes.
    const reopened = await runChild(['edit', '--dir', dir, '--data-dir', dataDir, '--edits', '0']);
    expect(reopened.code, reopened.stderr).toBe(0);
    expect(reopened.lines.find((l) => l.event === 'opened')).toMatchObject({ added: 8, restored: 8 });
    expect(temporaries()).toEqual([]);
    expect(fs.readFileSync(journal, 'utf8')).toBe('');
    project = reload(dir, dataDir);
    expect(project.skippedLines).toBe(0);
    expect(names.map(xOf)).toEqual(names.map(() => [7]));
  });
});

describe('a project file damaged outside the app', () => {
  it('is kept aside, never overwritten; the journal is restored and the person is told', async () => {
    const { dir, names } = await photoFolder(3);
    const dataDir = tempDir('fd-crash-data-');
    const run = await runChild(['edit', '--dir', dir, '--data-dir', dataDir, '--edits', '3', '--pause-rename', 'project.json'], (lines) => lines.some((l) => l.event === 'paused'));
    expect(run.signal, run.stderr).toBe('SIGKILL');
    const beside = path.join(dir, '.fashion-detect');
    const garbage = '{"format": "fashion-detect-project", "images": [ this is not JSON';
    fs.writeFileSync(path.join(beside, 'project.json'), garbage);
    const errors: string[] = [];
    const service = new WorkspaceService({ dataDir, autoLabelLimit: 0, allowPath: () => true, emit: (e) => e.type === 'error' && errors.push(e.message) });
    try {
      expect(await service.openPaths({ paths: [dir] })).toMatchObject({ added: 3, restored: 3 });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/the saved project in .* was damaged \(not valid JSON .*\); it was kept as .*project\.damaged-.*\.json, and the work saved since its last snapshot was restored/);
      await service.saveNow();
    } finally {
      await service.close();
    }
    const kept = fs.readdirSync(beside).filter((f) => f.startsWith('project.damaged-'));
    expect(kept).toHaveLength(1);
    expect(fs.readFileSync(path.join(beside, kept[0]), 'utf8')).toBe(garbage);
    const project = reload(dir, dataDir);
    expect(project.damaged).toBeUndefined();
    for (const s of savedLines(run.lines)) expect(project.images.get(s.name!)!.boxes).toEqual(s.boxes);
    expect([...project.images.keys()].sort()).toEqual(names);
  });
});

describe('a save that fails', () => {
  it('is reported, never said to be saved, and retried by itself until it reaches the disk', async () => {
    const { dir } = await photoFolder(1);
    const dataDir = tempDir('fd-crash-data-');
    // The project folder cannot be made: a file stands where it should be (as a full or read-only disk would refuse).
    const beside = path.join(dir, '.fashion-detect');
    fs.writeFileSync(beside, 'in the way');
    const events: { type: string; message?: string; unsaved?: number }[] = [];
    let onSaved: (() => void) | null = null;
    const service = new WorkspaceService({
      dataDir,
      autoLabelLimit: 0,
      allowPath: () => true,
      emit: (e) => {
        events.push({ type: e.type, ...(e.type === 'error' ? { message: e.message } : {}), ...(e.type === 'saved' ? { unsaved: e.save.unsaved } : {}) });
        if (e.type === 'saved' && e.save.unsaved === 0) onSaved?.();
      },
    });
    try {
      await service.openPaths({ paths: [dir] });
      const [img] = (await service.getWorkspace()).images;
      const box: Box = { id: 'mine', categoryId: 8, score: 1, bbox: [10, 10, 40, 40], verified: true };
      await service.updateBoxes({ id: img.id, boxes: [box] });
      await new Promise((r) => setTimeout(r, 600));
      expect(events.find((e) => e.type === 'error')?.message).toMatch(/^could not save to .*\.fashion-detect: /);
      expect(events.filter((e) => e.type === 'saved').every((e) => e.unsaved! > 0)).toBe(true);
      expect((await service.getWorkspace()).save.unsaved).toBe(1);
      // The way is cleared; nobody edits anything more: the retry alone saves the work.
      const saved = new Promise<void>((resolve) => (onSaved = resolve));
      fs.rmSync(beside);
      await saved;
      expect(reload(dir, dataDir).images.get(img.name)!.boxes).toEqual([box]);
    } finally {
      await service.close();
    }
  });
});
