// The batch: label every photo still to label (and, with relabel, the photos another model labelled
// that nobody reviewed), or stop. Progress comes back as events (see the sync).
import { call } from '../api';
import { messages } from '../state/messages.svelte';

export async function labelAll(relabel = false): Promise<void> {
  try {
    const { queued } = await call('labelAll', { relabel });
    if (queued === 0) messages.notify('info', relabel ? 'Nothing to relabel: every photo is labelled by this model or reviewed' : 'Every image is labelled already');
  } catch (err) {
    messages.report(err);
  }
}

export async function cancelLabelling(): Promise<void> {
  try {
    const { cancelled } = await call('cancelLabelling', {});
    messages.notify('info', `Labelling stopped; ${cancelled} image${cancelled === 1 ? '' : 's'} left pending`);
  } catch (err) {
    messages.report(err);
  }
}
