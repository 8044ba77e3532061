/**
 * Scale-to-fit with padding on the right and bottom only: a box maps back to the original picture
 * by dividing by `scale` alone, with no offset to get wrong.
 */
export interface Letterbox {
  srcWidth: number;
  srcHeight: number;
  dstWidth: number;
  dstHeight: number;
  scale: number;
  scaledWidth: number;
  scaledHeight: number;
}

export function letterboxFor(srcWidth: number, srcHeight: number, dstWidth: number, dstHeight: number): Letterbox {
  const scale = Math.min(dstWidth / srcWidth, dstHeight / srcHeight);
  const scaledWidth = Math.max(1, Math.min(dstWidth, Math.round(srcWidth * scale)));
  const scaledHeight = Math.max(1, Math.min(dstHeight, Math.round(srcHeight * scale)));
  return { srcWidth, srcHeight, dstWidth, dstHeight, scale, scaledWidth, scaledHeight };
}

/** [x1, y1, x2, y2] in model input pixels to [x, y, w, h] in source pixels, clipped to the picture. */
export function boxToSource(box: Letterbox, x1: number, y1: number, x2: number, y2: number): [number, number, number, number] {
  // The scaled picture may be a fraction of a pixel off the exact scale; use per-axis factors.
  const sx = box.srcWidth / box.scaledWidth;
  const sy = box.srcHeight / box.scaledHeight;
  const cx1 = clamp(x1 * sx, 0, box.srcWidth);
  const cy1 = clamp(y1 * sy, 0, box.srcHeight);
  const cx2 = clamp(x2 * sx, 0, box.srcWidth);
  const cy2 = clamp(y2 * sy, 0, box.srcHeight);
  return [cx1, cy1, Math.max(0, cx2 - cx1), Math.max(0, cy2 - cy1)];
}

/** [x, y, w, h] in source pixels to [x1, y1, x2, y2] in model input pixels. */
export function boxToInput(box: Letterbox, x: number, y: number, w: number, h: number): [number, number, number, number] {
  const sx = box.scaledWidth / box.srcWidth;
  const sy = box.scaledHeight / box.srcHeight;
  return [x * sx, y * sy, (x + w) * sx, (y + h) * sy];
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
