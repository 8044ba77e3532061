#!/usr/bin/env node
// `npm run web [-- --port P] [--data-dir DIR]`: the app in a browser, on 127.0.0.1 only.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { packageRoot } from '../../core/models/registry.js';
import { WorkspaceService } from '../../workspace/service.js';
import { startWebServer, type WebServer } from './server.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number from 0 to 65535 (0: any free port)');
  return n;
}

function defaultDataDir(): string {
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'fashion-detect', 'web');
}

async function main(): Promise<void> {
  const program = new Command()
    .name('fashion-detect-web')
    .description('Serves the Fashion Detect app to a browser on this computer (127.0.0.1 only).')
    .option('-p, --port <port>', 'port to listen on (0: any free port)', port, 5178)
    .option('-d, --data-dir <dir>', 'where uploads, saved work, thumbnails and exports go', defaultDataDir())
    .option('-w, --workers <n>', 'detector worker threads (default: one per core)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
      return n;
    })
    .showHelpAfterError();
  program.parse();
  const opts = program.opts<{ port: number; dataDir: string; workers?: number }>();
  const dataDir = path.resolve(opts.dataDir);
  const uploadsDir = path.join(dataDir, 'workspace');
  fs.mkdirSync(uploadsDir, { recursive: true });

  let server: WebServer | undefined;
  // Before the server listens no window can be listening either: those events reach no one.
  const service = new WorkspaceService({ dataDir, uploadsDir, workers: opts.workers, emit: (event) => server?.broadcast(event) });
  service.warmUp();
  // The session's folder holds what was dropped before: reopening it restores that work.
  const reopened = await service.openTrustedFolder(uploadsDir);
  try {
    server = await startWebServer({ service, rendererDir: path.join(packageRoot(), 'dist', 'renderer'), uploadsDir, port: opts.port });
  } catch (err) {
    await service.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`port ${opts.port} is in use (is Fashion Detect already running?); choose another with --port`);
    throw err;
  }
  console.log(`Fashion Detect is at ${server.url}`);
  console.log(`Uploads and saved work: ${dataDir}${reopened.added ? ` (${reopened.added} images reopened, ${reopened.restored} with saved work)` : ''}`);
  console.log('Press Ctrl-C to stop.');

  let stopping = false;
  const stop = async () => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log('Saving and stopping...');
    await service.close().catch((err: Error) => console.error(`could not save everything: ${err.message}`));
    await server?.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err: Error) => {
  console.error(`fashion-detect web: ${err.message}`);
  process.exit(1);
});
