// Reading typed coordinates: "3.33, 49.38", "49.38, 3.33", "49,38 ; 3,33", "49.38N 3.33E", "N 49.38 O 1.2".
// The API wants lon/lat; people paste lat/lon (what most map sites copy), so the order is detected from
// where the point falls: France (metropole and overseas) decides, then the ranges, then lat/lon. Also
// which part of France a set of points is mostly in, to frame them.

/** Where France is, to tell "lon, lat" from "lat, lon": [west, south, east, north]. */
export const AREAS = {
  metro: [-5.3, 41.3, 9.7, 51.2],
  971: [-61.85, 15.83, -61.0, 16.52],
  972: [-61.25, 14.38, -60.8, 14.9],
  973: [-54.62, 2.1, -51.6, 5.8],
  974: [55.2, -21.4, 55.85, -20.85],
  976: [44.95, -13.05, 45.32, -12.62],
};

export function inFrance(lon, lat) {
  return Object.values(AREAS).some(([w, s, e, n]) => lon >= w && lon <= e && lat >= s && lat <= n);
}

/**
 * Parses two decimal-degree numbers in either order. Returns {lon, lat, swapped} or {error} where error
 * is a message key ('coords.count', 'coords.range').
 */
export function parseCoordinates(text) {
  const s = text.trim().toUpperCase();
  // Hemisphere letters come all before their numbers ("N 49.38 E 3.33") or all after ("49.38N 3.33E").
  const prefix = /^[NSEWO]/.test(s);
  const pattern = prefix
    ? /([NSEWO])\s*([-+]?\d+(?:[.,]\d+)?)\s*°?/g
    : /()([-+]?\d+(?:[.,]\d+)?)\s*°?\s*([NSEWO])?/g;
  const tokens = [...s.matchAll(pattern)];
  if (tokens.length !== 2) return { error: 'coords.count' };
  const values = tokens.map(([, before, number, after]) => {
    const letter = before || after || '';
    let v = Number(number.replace(',', '.'));
    if (letter === 'S' || letter === 'W' || letter === 'O') v = -v;
    const axis = letter === 'N' || letter === 'S' ? 'lat' : letter ? 'lon' : '';
    return { v, axis };
  });
  let [a, b] = values;
  // Letters say which is which.
  if (a.axis === 'lat' || b.axis === 'lon') return checked(b.v, a.v, true);
  if (a.axis === 'lon' || b.axis === 'lat') return checked(a.v, b.v, false);
  // Only one reading fits the ranges.
  if (Math.abs(a.v) > 90 && Math.abs(b.v) <= 90) return checked(a.v, b.v, false);
  if (Math.abs(b.v) > 90 && Math.abs(a.v) <= 90) return checked(b.v, a.v, true);
  // Both fit: the one that lands in France, else latitude first (the common way to write a position).
  if (inFrance(a.v, b.v)) return checked(a.v, b.v, false);
  return checked(b.v, a.v, true);
}

function checked(lon, lat, swapped) {
  if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90) {
    return { error: 'coords.range' };
  }
  return { lon, lat, swapped };
}

/** The key of AREAS holding the point, or 'elsewhere'. */
export function areaOf([lon, lat]) {
  return Object.entries(AREAS).find(([, [w, s, e, n]]) => lon >= w && lon <= e && lat >= s && lat <= n)?.[0] ?? 'elsewhere';
}

/**
 * The box [west, south, east, north] to show points in: those of the part of France (metropole or one
 * overseas département) holding most of them, so one site in Guadeloupe does not zoom the map out to
 * the Atlantic. `points` is a non-empty list of [lon, lat].
 */
export function mainAreaBox(points) {
  const counts = new Map();
  for (const p of points) counts.set(areaOf(p), (counts.get(areaOf(p)) ?? 0) + 1);
  const [main] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
  const box = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [lon, lat] of points) {
    if (areaOf([lon, lat]) !== main) continue;
    box[0] = Math.min(box[0], lon);
    box[1] = Math.min(box[1], lat);
    box[2] = Math.max(box[2], lon);
    box[3] = Math.max(box[3], lat);
  }
  return box;
}
