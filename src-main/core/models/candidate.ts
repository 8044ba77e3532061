/** A box a model's output decodes to, in [x1, y1, x2, y2] model input pixels, before suppression. */
export interface Candidate {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  classIndex: number;
}
