/** Small statistics shared by the benchmarks. */

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Rounded to one decimal, for printing. */
export function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Rounded to two decimals, for printing. */
export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
