// The window's keys: every command declared once, with its keys, where it applies and what it does.
// The window's key handler dispatches through this table, the viewer's buttons and the desktop
// menu run its commands by id, and the status bar shows its hints.
import { editing } from './state/editing.svelte';
import { filters } from './state/filters.svelte';
import { sync } from './state/sync.svelte';
import { view } from './state/view.svelte';

/**
 * What has the focus, by what it does with keys:
 * - field: text fields and selects keep every key (Ctrl+Z included);
 * - control: checkboxes, sliders and other inputs keep their own keys (← → move a slider), so the
 *   photo keys do not apply there; the app's Ctrl shortcuts still do;
 * - button: buttons and links (Enter and Space press them);
 * - viewer: the photo viewer itself (Tab walks its boxes);
 * - other: anything else (the image list, the page).
 */
export type Focus = 'field' | 'control' | 'button' | 'viewer' | 'other';

/** Input types that take typed text: their keys are all theirs. */
const TEXT_INPUTS = new Set(['text', 'search', 'email', 'url', 'tel', 'password', 'number', 'date', 'datetime-local', 'month', 'time', 'week']);

export function focusOf(element: Element | null): Focus {
  if (!(element instanceof HTMLElement)) return 'other';
  if (element instanceof HTMLInputElement) {
    if (TEXT_INPUTS.has(element.type)) return 'field';
    return element.type === 'button' || element.type === 'submit' || element.type === 'reset' ? 'button' : 'control';
  }
  if (element instanceof HTMLSelectElement || element instanceof HTMLTextAreaElement || element.isContentEditable) return 'field';
  if (element instanceof HTMLButtonElement || element instanceof HTMLAnchorElement) return 'button';
  if (element.dataset.keys === 'viewer') return 'viewer';
  return 'other';
}

/** Where the photo keys apply: anywhere but in a form control, which keeps its own keys. */
const PHOTO: readonly Focus[] = ['viewer', 'button', 'other'];
/** Enter is a button's or a link's own key too. */
const NOT_ON_BUTTONS: readonly Focus[] = ['viewer', 'other'];
/** Ctrl shortcuts: everywhere but where text is typed. */
const SHORTCUT: readonly Focus[] = ['control', 'button', 'viewer', 'other'];

export type CommandId =
  | 'pan-while-held'
  | 'delete-box'
  | 'deselect'
  | 'nudge-box'
  | 'next-photo'
  | 'previous-photo'
  | 'category'
  | 'accept'
  | 'accept-and-next'
  | 'draw-box'
  | 'fit'
  | 'zoom-in'
  | 'zoom-out'
  | 'next-box'
  | 'undo'
  | 'redo';

export interface Command {
  id: CommandId;
  /**
   * KeyboardEvent.key values. Without "Mod+", the key works without Ctrl, ⌘ and Alt (Shift allowed).
   * "Mod+" is Ctrl or ⌘; with it the letter's case does not matter and "Shift+" must match.
   */
  keys: readonly string[];
  /** Where the key applies (see Focus). */
  focus: readonly Focus[];
  /** The key applies only when this holds; otherwise the key goes on to the next command, or to the page. */
  when?: () => boolean;
  /** What it does; the key event when a key ran it (Shift changes some commands). */
  run: (event?: KeyboardEvent) => void;
  /** Leave the key's own action to the page too (Space still presses a focused button). */
  keepDefault?: boolean;
  /** The status bar's hint, as "keys what". */
  hint?: string;
}

const hasSelection = () => editing.selectedBoxId !== null;

/** 1 to 9 pick the first nine categories, 0 the tenth. */
function categoryOfKey(key: string): number | undefined {
  return sync.categories[key === '0' ? 9 : Number(key) - 1]?.id;
}

function holdToPan(): void {
  view.panKeyHeld = true;
  window.addEventListener('keyup', (up) => up.key === ' ' && (view.panKeyHeld = false), { once: true });
}

/** Nudges the selected box by one screen pixel (ten with Shift). */
function nudge(event?: KeyboardEvent): void {
  const step = (event?.shiftKey ? 10 : 1) / view.scale;
  const key = event?.key;
  const [dx, dy] = key === 'ArrowLeft' ? [-step, 0] : key === 'ArrowRight' ? [step, 0] : key === 'ArrowUp' ? [0, -step] : [0, step];
  editing.moveSelected(dx, dy);
}

/**
 * The table, in the order keys are tried: the first command whose key, focus and condition match
 * runs (an arrow nudges the selected box before it goes to the next photo). The hints read in this order too.
 */
export const COMMANDS: readonly Command[] = [
  { id: 'pan-while-held', keys: [' '], focus: PHOTO, run: holdToPan, keepDefault: true },
  { id: 'nudge-box', keys: ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'], focus: PHOTO, when: hasSelection, run: nudge },
  { id: 'next-photo', keys: ['ArrowRight', 'PageDown', 'n'], focus: PHOTO, run: () => filters.step(1), hint: '←/→ photo' },
  { id: 'previous-photo', keys: ['ArrowLeft', 'PageUp', 'p'], focus: PHOTO, run: () => filters.step(-1) },
  { id: 'accept', keys: ['a'], focus: PHOTO, run: () => editing.acceptShown(), hint: 'A accept' },
  {
    id: 'accept-and-next',
    keys: ['Enter'],
    focus: NOT_ON_BUTTONS,
    // The review's stride: these boxes are right, on to the next photo the list shows. Not before
    // the chosen photo is on screen, so a held or quick Enter never passes a photo unseen.
    run: () => {
      if (!sync.showsChosenPhoto) return;
      editing.acceptShown();
      filters.step(1);
    },
    hint: 'Enter accept and next',
  },
  { id: 'draw-box', keys: ['b', 'd'], focus: PHOTO, run: () => (editing.drawing = !editing.drawing), hint: 'B draw' },
  { id: 'delete-box', keys: ['Delete', 'Backspace'], focus: PHOTO, when: hasSelection, run: () => editing.deleteSelected(), hint: 'Del delete' },
  {
    id: 'category',
    keys: ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'],
    focus: PHOTO,
    // For the selected box, or for the next box drawn.
    run: (event) => {
      const id = event && categoryOfKey(event.key);
      if (id !== undefined) editing.setSelectedCategory(id);
    },
    hint: '1–9, 0 category',
  },
  {
    id: 'deselect',
    keys: ['Escape'],
    focus: PHOTO,
    run: () => {
      editing.selectedBoxId = null;
      editing.drawing = false;
    },
    keepDefault: true,
  },
  { id: 'fit', keys: ['f'], focus: PHOTO, run: () => view.reset(), hint: 'F fit' },
  { id: 'zoom-in', keys: ['+', '='], focus: PHOTO, run: () => view.zoomBy(1.25) },
  { id: 'zoom-out', keys: ['-'], focus: PHOTO, run: () => view.zoomBy(0.8) },
  // Tab (Shift+Tab back) walks through the boxes while the photo has the focus; without boxes it moves the focus on.
  { id: 'next-box', keys: ['Tab'], focus: ['viewer'], when: () => sync.current !== null && filters.visibleBoxes.length > 0, run: (event) => editing.selectNextShown(event?.shiftKey ? -1 : 1) },
  { id: 'undo', keys: ['Mod+z'], focus: SHORTCUT, run: () => void editing.undo(), hint: 'Ctrl+Z undo' },
  { id: 'redo', keys: ['Mod+Shift+z', 'Mod+y', 'Mod+Shift+y'], focus: SHORTCUT, run: () => void editing.redo() },
];

function matches(chord: string, e: KeyboardEvent): boolean {
  if (chord.length === 1) return e.key === chord && !e.ctrlKey && !e.metaKey && !e.altKey;
  const parts = chord.split('+');
  const key = parts.at(-1)!;
  const mod = parts.includes('Mod');
  if (mod !== (e.ctrlKey || e.metaKey)) return false;
  if (!mod) return e.key === key && !e.altKey && (!parts.includes('Shift') || e.shiftKey);
  return e.key.toLowerCase() === key.toLowerCase() && e.shiftKey === parts.includes('Shift');
}

/** The command a key runs where the focus is; undefined when the key is the page's or the focused element's own. */
export function commandForKey(e: KeyboardEvent, focus: Focus): Command | undefined {
  return COMMANDS.find((c) => c.focus.includes(focus) && c.keys.some((chord) => matches(chord, e)) && (c.when?.() ?? true));
}

/** The window's key handler: runs the command of a key, if any. */
export function dispatchKey(e: KeyboardEvent): void {
  // While a dialog is open its keys are its own (Enter presses its button, Escape closes it).
  if (document.querySelector('dialog[open]')) return;
  const command = commandForKey(e, focusOf(e.target as Element | null));
  if (!command) return;
  if (!command.keepDefault) e.preventDefault();
  command.run(e);
}

/** Runs a command by id (a button, the desktop menu). */
export function runCommand(id: CommandId): void {
  COMMANDS.find((c) => c.id === id)!.run();
}

/** The status bar's key hints, in the table's order. */
export const keyHints: readonly string[] = COMMANDS.flatMap((c) => (c.hint ? [c.hint] : []));
