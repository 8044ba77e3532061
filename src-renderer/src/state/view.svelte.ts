// The viewer's zoom and pan, shared by the viewer (which draws with them) and the keys (zoom, fit,
// and a nudge of one screen pixel).
//
// Boxes are kept in upright pixels of the original photo. The view maps them to the screen with
// one scale and one offset, the same ones that place the picture, so they stay aligned at every
// zoom; the picture the viewer gets is already upright (EXIF applied in the core).
import { sync } from './sync.svelte';

const MAX_ZOOM = 40;

export class ViewTransform {
  /** The viewport's size in CSS pixels (bound by the viewer). */
  vw = $state(800);
  vh = $state(600);
  /** 1 is the photo fitted to the viewport. */
  zoom = $state(1);
  panX = $state(0);
  panY = $state(0);
  /** Space is held: a drag pans, wherever it starts. */
  panKeyHeld = false;

  /** The photo's upright size. */
  W = $derived(sync.current?.width ?? 0);
  H = $derived(sync.current?.height ?? 0);
  fit = $derived(this.W && this.H ? Math.min((this.vw - 24) / this.W, (this.vh - 24) / this.H) : 1);
  /** Screen pixels per image pixel, and where the photo's corner is on screen. */
  scale = $derived(this.fit * this.zoom);
  tx = $derived((this.vw - this.W * this.scale) / 2 + this.panX);
  ty = $derived((this.vh - this.H * this.scale) / 2 + this.panY);

  /** Fits the photo to the viewport. */
  reset(): void {
    this.zoom = 1;
    this.panX = 0;
    this.panY = 0;
  }

  /** Zooms by `factor` around the viewport point (sx, sy): the image point under it stays under it. */
  zoomAt(factor: number, sx: number, sy: number): void {
    const nextZoom = Math.min(MAX_ZOOM, Math.max(1, this.zoom * factor));
    if (nextZoom === this.zoom) return;
    const ix = (sx - this.tx) / this.scale;
    const iy = (sy - this.ty) / this.scale;
    const nextScale = this.fit * nextZoom;
    this.zoom = nextZoom;
    if (nextZoom === 1) {
      this.panX = 0;
      this.panY = 0;
      return;
    }
    this.panX = sx - ix * nextScale - (this.vw - this.W * nextScale) / 2;
    this.panY = sy - iy * nextScale - (this.vh - this.H * nextScale) / 2;
  }

  /** Zooms around the viewport's centre. */
  zoomBy(factor: number): void {
    this.zoomAt(factor, this.vw / 2, this.vh / 2);
  }

  /** The image point under the viewport point (sx, sy). */
  toImage(sx: number, sy: number): [number, number] {
    return [(sx - this.tx) / this.scale, (sy - this.ty) / this.scale];
  }
}

export const view = new ViewTransform();
