// Small statistics helpers: medians across rounds and per-round ratios.

export function median(values) {
  const xs = values.filter((v) => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

export function min(values) {
  const xs = values.filter(Number.isFinite);
  return xs.length ? Math.min(...xs) : NaN;
}

export function max(values) {
  const xs = values.filter(Number.isFinite);
  return xs.length ? Math.max(...xs) : NaN;
}

/** Median over rounds of a[i] / b[i] (each ratio taken inside one round). */
export function medianRatio(a, b) {
  const n = Math.min(a.length, b.length);
  const ratios = [];
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(a[i]) && Number.isFinite(b[i]) && b[i] !== 0) ratios.push(a[i] / b[i]);
  }
  return median(ratios);
}

export function fmt(value, digits = 0) {
  if (value === undefined || value === null || !Number.isFinite(value)) return "–";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
