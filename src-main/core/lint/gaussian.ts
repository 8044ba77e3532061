// A Gaussian over a few features, fitted robustly (the data it learns from has the faults it must find),
// and the probability of a point as far out as a given one.

export interface Gaussian {
  mean: number[];
  /** Lower-triangular Cholesky factor of the covariance, row by row. */
  cholesky: number[][];
  /** Standard deviation of each feature alone. */
  sd: number[];
  /** Points it was fitted on, after trimming. */
  count: number;
}

/** Cholesky factor of a symmetric positive definite matrix; undefined where it is not. */
function choleskyOf(a: number[][]): number[][] | undefined {
  const n = a.length;
  const l = a.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i][j];
      for (let k = 0; k < j; k++) sum -= l[i][k] * l[j][k];
      if (i === j) {
        if (!(sum > 0)) return undefined;
        l[i][i] = Math.sqrt(sum);
      } else {
        l[i][j] = sum / l[j][j];
      }
    }
  }
  return l;
}

/** Squared Mahalanobis distance: |L^-1 (x - mean)|^2 by forward substitution. */
export function mahalanobis2(g: Gaussian, x: readonly number[]): number {
  const n = g.mean.length;
  const y = new Array<number>(n);
  let sum2 = 0;
  for (let i = 0; i < n; i++) {
    let v = x[i] - g.mean[i];
    for (let k = 0; k < i; k++) v -= g.cholesky[i][k] * y[k];
    y[i] = v / g.cholesky[i][i];
    sum2 += y[i] * y[i];
  }
  return sum2;
}

/** ln Gamma(z) (Lanczos, g = 7). */
function logGamma(z: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  z -= 1;
  let x = c[0];
  for (let i = 1; i < 9; i++) x += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
}

/** log10 of Q(a, x), the regularised upper incomplete gamma function (series below a + 1, continued fraction above). */
function log10UpperGamma(a: number, x: number): number {
  if (x <= 0) return 0;
  const front = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 500 && Math.abs(term) > Math.abs(sum) * 1e-15; n++) {
      term *= x / (a + n);
      sum += term;
    }
    const p = Math.exp(front) * sum;
    return Math.log10(Math.max(1 - p, 1e-300));
  }
  // Lentz's method for the continued fraction of Q.
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return (front + Math.log(h)) / Math.LN10;
}

/** -log10 of the chance that a point of the Gaussian lies at least this far out: 3 is one in a thousand. */
export function surprise(distance2: number, dims: number): number {
  return -log10UpperGamma(dims / 2, distance2 / 2);
}

/** The chi-square quantile with `dims` degrees of freedom below which a share `p` of the points lie (bisection). */
export function chiSquareQuantile(p: number, dims: number): number {
  const target = -Math.log10(1 - p);
  let lo = 0;
  let hi = 10 * dims + 100;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (surprise(mid, dims) < target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function fitPlain(points: readonly number[][], ridge: readonly number[]): Gaussian | undefined {
  const n = points.length;
  const dims = points[0].length;
  const mean = new Array<number>(dims).fill(0);
  for (const p of points) for (let i = 0; i < dims; i++) mean[i] += p[i] / n;
  const cov = mean.map(() => new Array<number>(dims).fill(0));
  for (const p of points) {
    for (let i = 0; i < dims; i++) for (let j = 0; j <= i; j++) cov[i][j] += ((p[i] - mean[i]) * (p[j] - mean[j])) / Math.max(1, n - 1);
  }
  for (let i = 0; i < dims; i++) {
    for (let j = 0; j < i; j++) cov[j][i] = cov[i][j];
    cov[i][i] += ridge[i] * ridge[i];
  }
  const cholesky = choleskyOf(cov);
  return cholesky && { mean, cholesky, sd: cov.map((row, i) => Math.sqrt(row[i])), count: n };
}

const KEEP = 0.975;

/**
 * Mean and covariance of the points, refitted a few times on those within the 97.5% ellipse of the
 * last fit (the covariance scaled back up for what trimming takes away), so a few gross faults do not
 * widen the model that should find them. `ridge` is a floor on each feature's spread.
 */
export function fitRobustGaussian(points: readonly number[][], ridge: readonly number[]): Gaussian | undefined {
  if (points.length === 0) return undefined;
  const dims = points[0].length;
  const cut = chiSquareQuantile(KEEP, dims);
  // Consistency factor of a covariance trimmed at the KEEP quantile of a normal distribution.
  const consistency = KEEP / (1 - 10 ** -surprise(cut, dims + 2));
  let g = fitPlain(points, ridge);
  for (let round = 0; round < 4 && g; round++) {
    const fitted: Gaussian = g;
    const inside = points.filter((p) => mahalanobis2(fitted, p) <= cut * (round === 0 ? 4 : 1));
    if (inside.length < dims + 2) break;
    const next = fitPlain(inside, ridge);
    if (!next) break;
    const scale = Math.sqrt(consistency);
    g = { ...next, cholesky: next.cholesky.map((row) => row.map((v) => v * scale)), sd: next.sd.map((v) => v * scale) };
  }
  return g;
}
