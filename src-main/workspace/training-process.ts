// The training's own process: core's train-child script, forked with the app's Node (Electron runs it
// as plain Node), its priority below the labeller's (nice 10) so the window and the labelling keep
// their pace; replies and its end are handed to the owner.
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { ChildMessage, ChildReply, ChildTrainRequest } from '../core/train/train-child.js';

/** The niceness of the training: the lowest priority there is. */
const TRAINING_NICENESS = 19;
/** What is kept of the child's own output, for the message when it dies. */
const OUTPUT_TAIL = 2000;

/** Compiled child script: from dist when this module runs from the TypeScript sources (tests). */
function childScript(): string {
  return __filename.endsWith('.ts') ? path.resolve(__dirname, '../../dist/main/core/train/train-child.js') : path.resolve(__dirname, '../core/train/train-child.js');
}

export interface TrainingProcessHooks {
  onReply(reply: ChildReply): void;
  /** The process ended; `output` is the end of what it wrote (an error's stack, when it crashed). */
  onExit(code: number | null, signal: NodeJS.Signals | null, output: string): void;
}

export class TrainingProcess {
  private readonly child: ChildProcess;
  private output = '';
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>;

  constructor(request: ChildTrainRequest, hooks: TrainingProcessHooks) {
    // ELECTRON_RUN_AS_NODE: in the desktop app, process.execPath is Electron's binary, which then runs the script as Node.
    this.child = fork(childScript(), [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, execArgv: [] });
    try {
      if (this.child.pid !== undefined) os.setPriority(this.child.pid, TRAINING_NICENESS);
    } catch {
      // not allowed on this system: the child lowers its own priority too
    }
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-OUTPUT_TAIL);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.child.on('message', (reply: ChildReply) => hooks.onReply(reply));
    this.exited = new Promise((resolve) => {
      let ended = false;
      const end = (code: number | null, signal: NodeJS.Signals | null) => {
        if (ended) return;
        ended = true;
        hooks.onExit(code, signal, this.output.trim());
        resolve();
      };
      this.child.on('exit', end);
      this.child.on('error', (err) => {
        keep(Buffer.from(`${err.message}\n`));
        // It could not start at all: no 'exit' comes.
        if (this.child.pid === undefined) end(null, null);
      });
    });
    this.send({ type: 'start', request });
  }

  /** Asks it to stop at its next step (it saves its checkpoint, replies 'stopped' and exits). */
  stop(): void {
    this.send({ type: 'stop' });
  }

  /** Stops it and waits, at most `patienceMs`, then ends it the hard way. */
  async stopAndWait(patienceMs: number): Promise<void> {
    this.stop();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), patienceMs)));
    const result = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (result === 'late') {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  private send(message: ChildMessage): void {
    if (this.child.connected) this.child.send(message);
  }
}
