// Plain functions that run anywhere: in Node (core, workspace, CLI) and in the renderer. They import
// nothing, so every layer may use them.

/** "42 s", "3 min 05 s", "1 h 05 min": a duration at a glance, the same on the command line and in the window. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  return `${m} min ${String(s % 60).padStart(2, '0')} s`;
}

/** "1 photo", "3 photos", "2 boxes" (with `many` where the plural is not `one` + s). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "812 KB", "2.4 MB", "38 MB", "12.4 GB" (binary multiples; one decimal under 10 and for GB): file and cache sizes, the same everywhere. */
export function formatBytes(bytes: number): string {
  const units: [number, string][] = [[2 ** 30, 'GB'], [2 ** 20, 'MB'], [2 ** 10, 'KB']];
  for (const [unit, name] of units) {
    if (bytes >= unit) return `${(bytes / unit).toFixed(bytes < 10 * unit || name === 'GB' ? 1 : 0)} ${name}`;
  }
  return plural(Math.round(bytes), 'byte');
}
