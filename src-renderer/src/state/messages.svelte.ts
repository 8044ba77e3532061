// Messages to the person: what an action did, and what went wrong. Info messages go away by
// themselves; errors, and messages that offer an action, stay until dismissed.

export interface Message {
  id: number;
  kind: 'info' | 'error';
  text: string;
  details?: string[];
  /** A button the message offers ("Relabel 12 photos nobody reviewed"); pressing it dismisses the message. */
  action?: MessageAction;
}

export interface MessageAction {
  label: string;
  run: () => void;
}

let nextMessage = 1;

export class Messages {
  list = $state<Message[]>([]);

  notify(kind: Message['kind'], text: string, details?: string[], action?: MessageAction): void {
    // The same message again (a key held at the end of the list) is shown once.
    if (this.list.some((m) => m.kind === kind && m.text === text && !details?.length && !m.action && !action)) return;
    const message: Message = { id: nextMessage++, kind, text, details: details?.length ? details : undefined, action };
    this.list = [...this.list.slice(-3), message];
    if (kind === 'info' && !action) setTimeout(() => this.dismiss(message.id), 5000);
  }

  dismiss(id: number): void {
    this.list = this.list.filter((m) => m.id !== id);
  }

  /** A failed call or action, in the words the main side (or the error) gave. */
  report(err: unknown): void {
    this.notify('error', errorText(err));
  }
}

/** A failed call's or action's message, as the main side (or the error) worded it. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export const messages = new Messages();
