// The page's state in its URL, both ways: `?edition=&compare=&territory=&unit=&lookup=LON,LAT&lang=en`
// and `#zoom/lat/lon`. Pure functions of strings and plain values (no DOM, no map), tested in node.

/** Coordinates in a shared link keep this many decimals (~0.1 m). */
const LINK_DECIMALS = 6;

/**
 * Reads a query string and a hash. Unknown or malformed values read as null, never as an error: a
 * shared link that is half broken still opens the map.
 * @returns {{edition: string|null, compare: string|null, territory: string|null, unit: string|null,
 *   lookup: {lon: number, lat: number}|null, lang: string|null, view: {zoom, lat, lon}|null}}
 */
export function parseUrl(search, hash = '') {
  const params = new URLSearchParams(search);
  return {
    edition: params.get('edition'),
    compare: params.get('compare'),
    territory: params.get('territory'),
    unit: params.get('unit'),
    lookup: parseLookup(params.get('lookup')),
    lang: params.get('lang'),
    view: parseHash(hash),
  };
}

/** `LON,LAT` in degrees, or null when it is not two numbers in range. */
export function parseLookup(value) {
  if (!value) return null;
  const parts = value.split(',');
  // Number('') is 0: an empty part must not read as the Gulf of Guinea.
  if (parts.length < 2 || parts[0].trim() === '' || parts[1].trim() === '') return null;
  const [lon, lat] = parts.map(Number);
  if (Number.isFinite(lon) && Number.isFinite(lat) && Math.abs(lon) <= 180 && Math.abs(lat) <= 90) {
    return { lon, lat };
  }
  return null;
}

/** `#zoom/lat/lon`, or null when it is not three numbers in range. */
export function parseHash(hash) {
  const parts = hash.replace(/^#/, '').split('/').map(Number);
  if (parts.length < 3 || parts.some((p) => !Number.isFinite(p))) return null;
  const [zoom, lat, lon] = parts;
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180 || zoom < 0 || zoom > 24) return null;
  return { zoom, lat, lon };
}

/**
 * The `territory` parameter: `ID` for the main edition, `EDITION:ID` for another one.
 * @returns {{edition: string, id: string}}
 */
export function parseTerritory(value, mainEdition) {
  if (!value.includes(':')) return { edition: mainEdition, id: value };
  const [edition, id] = value.split(':', 2);
  return { edition, id };
}

/** The `territory` parameter for a territory of `edition` while `mainEdition` is shown. */
export function territoryParam(edition, id, mainEdition) {
  return edition === mainEdition ? id : `${edition}:${id}`;
}

/** `#zoom/lat/lon` of a map view (2 decimals of zoom, 5 of degrees: ~1 m). */
export function viewHash({ zoom, lat, lon }) {
  return `#${zoom.toFixed(2)}/${lat.toFixed(5)}/${lon.toFixed(5)}`;
}

/** Encodes a query value, leaving `,` and `:` readable (both are legal in a query). */
export function encodeValue(value) {
  return encodeURIComponent(value).replace(/%2C/g, ',').replace(/%3A/g, ':');
}

function round(x) {
  return Number(x.toFixed(LINK_DECIMALS));
}

/**
 * The query string (without `?`) that reopens this state; parameters in a fixed order, French (the
 * default language) left out.
 * @param {{edition?: string|null, compare?: string|null, selected?: {edition, id}|null,
 *   unit?: string|null, site?: {lon, lat}|null}} state
 */
export function queryString({ edition = null, compare = null, selected = null, unit = null, site = null }, lang = 'fr') {
  const pairs = [];
  if (edition) pairs.push(['edition', edition]);
  if (compare) pairs.push(['compare', compare]);
  if (selected) pairs.push(['territory', territoryParam(selected.edition, selected.id, edition)]);
  if (unit) pairs.push(['unit', unit]);
  if (site) pairs.push(['lookup', `${round(site.lon)},${round(site.lat)}`]);
  if (lang !== 'fr') pairs.push(['lang', lang]);
  return pairs.map(([k, v]) => `${k}=${encodeValue(v)}`).join('&');
}

/** The link (a query) that opens a territory while `mainEdition` is shown, e.g. `?edition=2023&territory=ti-1`. */
export function territoryLink(edition, id, mainEdition) {
  const query = new URLSearchParams({ edition: mainEdition ?? edition, territory: territoryParam(edition, id, mainEdition) });
  return `?${query.toString().replace(/%3A/g, ':')}`;
}

/** The link that opens a unit's panel. */
export function unitLink(code) {
  return `?unit=${encodeValue(code)}`;
}
