// The main window's size and place, remembered between runs in the app's user-data folder.
// Nothing here imports electron: main.ts passes in the displays' work areas.
import fs from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic } from '../../core/base/atomic-write.js';

export interface Rectangle {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  /** Absent: let the OS centre the window. */
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
  fullScreen: boolean;
}

export const MIN_WIDTH = 800;
export const MIN_HEIGHT = 560;
export const DEFAULT_WINDOW_STATE: WindowState = { width: 1280, height: 820, maximized: false, fullScreen: false };

const savedStateSchema = z.object({
  x: z.number().int().optional(),
  y: z.number().int().optional(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  maximized: z.boolean().default(false),
  fullScreen: z.boolean().default(false),
});

/** How many pixels of the title bar must be on a screen for the window to count as reachable. */
const VISIBLE_MARGIN = 64;
const TITLE_BAR_HEIGHT = 32;

function overlap(a: Rectangle, b: Rectangle): { width: number; height: number } {
  return {
    width: Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x),
    height: Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y),
  };
}

/**
 * The saved state made safe for the screens there are now: at least the minimum size, no larger
 * than the largest screen, and back to the centre when its place is off every screen (a monitor
 * that was unplugged).
 */
export function fitToDisplays(state: WindowState, workAreas: Rectangle[]): WindowState {
  const largest = workAreas.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a), workAreas[0] ?? { x: 0, y: 0, width: 1920, height: 1080 });
  const width = Math.max(MIN_WIDTH, Math.min(state.width, largest.width));
  const height = Math.max(MIN_HEIGHT, Math.min(state.height, largest.height));
  const fitted: WindowState = { width, height, maximized: state.maximized, fullScreen: state.fullScreen };
  if (state.x !== undefined && state.y !== undefined) {
    // The title bar strip must be on a screen, so the window can be grabbed and moved.
    const titleBar = { x: state.x, y: state.y, width, height: TITLE_BAR_HEIGHT };
    const reachable = workAreas.some((area) => {
      const o = overlap(titleBar, area);
      return o.width >= VISIBLE_MARGIN && o.height >= TITLE_BAR_HEIGHT / 2;
    });
    if (reachable) {
      fitted.x = state.x;
      fitted.y = state.y;
    }
  }
  return fitted;
}

/** The remembered state, or the default when there is none or the file is damaged. */
export function loadWindowState(file: string, workAreas: Rectangle[]): WindowState {
  let saved: WindowState = DEFAULT_WINDOW_STATE;
  try {
    const parsed = savedStateSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    if (parsed.success) saved = parsed.data;
  } catch {
    // No file yet, or unreadable JSON: start from the default.
  }
  return fitToDisplays(saved, workAreas);
}

/** Saves the normal (not maximized) bounds with the maximized/full-screen flags. */
export function saveWindowState(file: string, normalBounds: Rectangle, flags: { maximized: boolean; fullScreen: boolean }): void {
  const state: WindowState = {
    x: Math.round(normalBounds.x),
    y: Math.round(normalBounds.y),
    width: Math.round(normalBounds.width),
    height: Math.round(normalBounds.height),
    ...flags,
  };
  writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`);
}
