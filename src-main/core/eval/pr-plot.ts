import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { CocoEvalResult } from './coco-eval.js';

export interface PrSeries {
  label: string;
  color: string;
  /** Interpolated precision at each recall threshold. */
  precision: readonly number[];
}

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

/** A precision-recall chart as SVG: axes 0..1, a grid at tenths, one step line per series, a legend. */
export function prCurveSvg(title: string, subtitle: string, recall: readonly number[], series: readonly PrSeries[]): string {
  const width = 640;
  const height = 510;
  const left = 64;
  const right = 24;
  const top = 64;
  const bottom = 86;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const x = (r: number) => left + r * plotW;
  const y = (p: number) => top + (1 - p) * plotH;
  const parts: string[] = [];
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  for (let i = 0; i <= 10; i++) {
    const v = i / 10;
    parts.push(`<line x1="${x(v)}" y1="${top}" x2="${x(v)}" y2="${top + plotH}" stroke="#e4e4e4"/>`);
    parts.push(`<line x1="${left}" y1="${y(v)}" x2="${left + plotW}" y2="${y(v)}" stroke="#e4e4e4"/>`);
    if (i % 2 === 0) {
      parts.push(`<text x="${x(v)}" y="${top + plotH + 20}" text-anchor="middle" font-size="13">${v.toFixed(1)}</text>`);
      parts.push(`<text x="${left - 8}" y="${y(v) + 4}" text-anchor="end" font-size="13">${v.toFixed(1)}</text>`);
    }
  }
  parts.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`);
  parts.push(`<text x="${left + plotW / 2}" y="${top + plotH + 40}" text-anchor="middle" font-size="14">recall</text>`);
  parts.push(`<text transform="translate(18 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="14">precision</text>`);
  parts.push(`<text x="${left}" y="26" font-size="18" font-weight="bold">${escapeXml(title)}</text>`);
  parts.push(`<text x="${left}" y="48" font-size="13" fill="#555">${escapeXml(subtitle)}</text>`);
  series.forEach((s, i) => {
    // Interpolated precision is a step function of recall: draw it as steps, not slopes.
    const points: string[] = [];
    s.precision.forEach((p, j) => {
      if (j > 0) points.push(`${x(recall[j]).toFixed(2)},${y(s.precision[j - 1]).toFixed(2)}`);
      points.push(`${x(recall[j]).toFixed(2)},${y(p).toFixed(2)}`);
    });
    parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2.5" stroke-linejoin="round"/>`);
    // The legend sits in a row under the chart, where it can hide no part of a curve.
    const lx = left + (i * plotW) / series.length;
    const ly = height - 14;
    parts.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 24}" y2="${ly - 4}" stroke="${s.color}" stroke-width="3"/>`);
    parts.push(`<text x="${lx + 30}" y="${ly}" font-size="13">${escapeXml(s.label)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, Arial, sans-serif">${parts.join('')}</svg>`;
}

const fmt = (v: number | null) => (v === null ? 'n/a' : v.toFixed(3));

/** Mean of per-threshold precision rows, point by point. */
function meanRows(rows: readonly (readonly number[])[]): number[] {
  return rows[0].map((_, j) => rows.reduce((sum, row) => sum + row[j], 0) / rows.length);
}

function fileSlug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'category';
}

/** A precision-recall chart as PNG: of one category (its id), or of all of them together (null). */
export interface PrPlot {
  categoryId: number | null;
  /** pr-<category>.png, or pr-all.png. */
  fileName: string;
  png: Buffer;
}

/**
 * One PNG per category with ground truth (IoU .50, .75 and the mean over .50:.95), plus one averaged
 * over those categories (`pr-all.png`, categoryId null).
 */
export async function prPlots(result: Pick<CocoEvalResult, 'recallThresholds' | 'iouThresholds' | 'perCategory' | 'ap' | 'ap50' | 'ap75'>): Promise<PrPlot[]> {
  const recall = result.recallThresholds;
  const withGt = result.perCategory.filter((c) => c.precision !== null);
  const charts: { categoryId: number | null; file: string; title: string; subtitle: string; precision: number[][] }[] = [];
  const used = new Set<string>();
  for (const c of withGt) {
    let slug = fileSlug(c.name);
    if (used.has(slug)) slug = `${slug}-${c.id}`;
    used.add(slug);
    charts.push({
      categoryId: c.id,
      file: `pr-${slug}.png`,
      title: `Precision-recall: ${c.name}`,
      subtitle: `${c.gtCount} ground-truth boxes, ${c.detectionCount} detections; AP ${fmt(c.ap)}, AP50 ${fmt(c.ap50)}, AP75 ${fmt(c.ap75)}`,
      precision: c.precision!,
    });
  }
  if (withGt.length > 0) {
    const thresholds = result.iouThresholds.map((_, t) => meanRows(withGt.map((c) => c.precision![t])));
    charts.push({
      categoryId: null,
      file: 'pr-all.png',
      title: 'Precision-recall: mean over categories',
      subtitle: `${withGt.length} categories with ground truth; AP ${fmt(result.ap)}, AP50 ${fmt(result.ap50)}, AP75 ${fmt(result.ap75)}`,
      precision: thresholds,
    });
  }
  const plots: PrPlot[] = [];
  for (const chart of charts) {
    const svg = prCurveSvg(chart.title, chart.subtitle, recall, [
      { label: 'IoU 0.50', color: '#1f77b4', precision: chart.precision[0] },
      { label: 'IoU 0.75', color: '#ff7f0e', precision: chart.precision[5] },
      { label: 'IoU 0.50:0.95 (mean)', color: '#2ca02c', precision: meanRows(chart.precision) },
    ]);
    plots.push({ categoryId: chart.categoryId, fileName: chart.file, png: await sharp(Buffer.from(svg)).png().toBuffer() });
  }
  return plots;
}

/** The charts of prPlots written into `dir`. Returns the files written. */
export async function writePrPlots(result: CocoEvalResult, dir: string): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const plot of await prPlots(result)) {
    const file = path.join(dir, plot.fileName);
    fs.writeFileSync(file, plot.png);
    written.push(file);
  }
  return written;
}
