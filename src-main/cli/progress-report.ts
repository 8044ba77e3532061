import cliProgress from 'cli-progress';
import { formatDuration } from '../common/format.js';
import { throughput } from '../common/progress.js';

export type ProgressKind = 'auto' | 'bar' | 'lines' | 'none';

export interface ProgressReport {
  start(total: number): void;
  update(done: number): void;
  stop(): void;
}

/**
 * Progress of a long pass over photos on stderr: a bar on a terminal; on a pipe or in CI, a plain
 * line every few seconds (and at the end), so logs stay readable.
 */
export function progressReport(kind: ProgressKind, verb: string, unit = 'photos'): ProgressReport {
  if (kind === 'none') return { start() {}, update() {}, stop() {} };
  let total = 0;
  let started = 0;
  const rate = (done: number) => throughput(done, total, (Date.now() - started) / 1000);
  if (kind === 'bar' || (kind === 'auto' && Boolean(process.stderr.isTTY))) {
    const bar = new cliProgress.SingleBar(
      { format: `${verb} [{bar}] {value}/{total} | {rate} ${unit}/s | ETA {eta_text}`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    return {
      start(n) {
        total = n;
        started = Date.now();
        bar.start(n, 0, { rate: '0.0', eta_text: '?' });
      },
      update(done) {
        const t = rate(done);
        bar.update(done, { rate: t.perSecond.toFixed(1), eta_text: t.etaSeconds === null ? '?' : formatDuration(t.etaSeconds) });
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    start(n) {
      total = n;
      started = Date.now();
      last = started;
      process.stderr.write(`${verb} ${n} ${unit}\n`);
    },
    update(done) {
      const now = Date.now();
      if (done < total && now - last < 2000) return;
      last = now;
      const t = rate(done);
      process.stderr.write(`${done}/${total} ${unit}, ${t.perSecond.toFixed(1)} ${unit}/s, ETA ${t.etaSeconds === null ? '?' : formatDuration(t.etaSeconds)}\n`);
    },
    stop() {},
  };
}
