import { EXIT } from './exit-codes.js';

/**
 * Ctrl-C (or SIGTERM) asks the running command to stop cleanly: `signal` aborts and `whatHappens` is
 * printed; a second Ctrl-C quits at once. `release()` puts the default handling back.
 */
export function stopOnInterrupt(whatHappens: string): { signal: AbortSignal; release: () => void } {
  const abort = new AbortController();
  const onSignal = () => {
    if (abort.signal.aborted) process.exit(EXIT.interrupted);
    process.stderr.write(`\nstopping: ${whatHappens} (Ctrl-C again to quit at once)\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: abort.signal,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
