// Events from the workspace service pass the contract's schema before a window receives them, over
// IPC (desktop) or Server-Sent Events (browser build): a window never sees a shape it was not built for.
import { parseApiEvent, type ApiEvent } from '../../contract/api.js';

/** The event as the contract reads it, or undefined (and a line on stderr) when it is outside it. */
export function checkedEvent(event: unknown): ApiEvent | undefined {
  try {
    return parseApiEvent(event);
  } catch (err) {
    console.error(`fashion-detect: an event outside the contract was not sent: ${(err as Error).message}`);
    return undefined;
  }
}
