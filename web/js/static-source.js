// Static mode: the page exported by `territoires export --format site` reads JSON files of data/ and the
// tiles.pmtiles archive (MapLibre's pmtiles:// protocol) instead of the API, and checks a site itself: it
// decodes the zoom-12 tile under the point and tests the point against the territory polygons, so the
// answer is computed from map tiles, precise to a few metres. The served page never enters this mode.

import { decodeTile, ringsContain, tileOf } from './mvt.js';

/** True on the exported page (`<html data-source="static">`). */
export const STATIC = globalThis.document?.documentElement?.dataset?.source === 'static';

/** Zoom of the tiles the lookup decodes: the deepest of the archive. */
const LOOKUP_ZOOM = 12;

const base = STATIC ? new URL('./', location.href) : null;
/** The archive's absolute URL (tiles are fetched from workers, which have their own base URL). */
export const ARCHIVE = STATIC ? new URL('tiles.pmtiles', base).href : null;

let archive = null;

/** Loads the vendored pmtiles browser build (a classic script defining `pmtiles`), once. */
function loadPmtiles() {
  if (globalThis.pmtiles) return Promise.resolve(globalThis.pmtiles);
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = new URL('vendor/pmtiles/pmtiles.js', base).href;
    script.onload = () => resolve(globalThis.pmtiles);
    script.onerror = () => reject(new Error('vendor/pmtiles/pmtiles.js could not be loaded'));
    document.head.append(script);
  });
}

/** Registers the pmtiles:// protocol with MapLibre (before the map asks for a tile). */
export async function registerProtocol(addProtocol) {
  const { PMTiles, Protocol } = await loadPmtiles();
  const protocol = new Protocol();
  archive = new PMTiles(ARCHIVE);
  protocol.add(archive);
  addProtocol('pmtiles', protocol.tile);
}

const files = new Map();
function file(name) {
  if (!files.has(name)) {
    const loading = fetch(new URL(`data/${name}`, base)).then((r) => {
      if (!r.ok) {
        const error = new Error(`data/${name}: ${r.status} ${r.statusText}`);
        error.status = r.status === 404 ? 404 : r.status;
        throw error;
      }
      return r.json();
    });
    loading.catch(() => files.delete(name));
    files.set(name, loading);
  }
  return files.get(name);
}

function notFound(message) {
  const error = new Error(message);
  error.status = 404;
  error.code = 'not_found';
  return error;
}

/** Folds text as the server's search index does (src/text.rs `fold`). */
export function fold(s) {
  return s
    .replace(/œ/g, 'oe').replace(/Œ/g, 'oe').replace(/æ/g, 'ae').replace(/Æ/g, 'ae')
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

const startsAWord = (text, word) => {
  for (let i = text.indexOf(word); i !== -1; i = text.indexOf(word, i + 1)) {
    if (i === 0 || text[i - 1] === ' ') return true;
  }
  return false;
};

/** The search of src/atlas/search.rs over data/search.json: every word starts a word; best first. */
export function searchEntries(entries, q, edition, limit) {
  const folded = fold(q);
  const words = folded.split(' ').filter(Boolean);
  if (words.length === 0) return [];
  const found = [];
  for (const e of entries) {
    if (edition && e.hit.kind === 'territory' && e.hit.edition !== edition) continue;
    if (!words.every((w) => startsAWord(e.text, w))) continue;
    const name = e.text.slice(0, e.name_len);
    const tier = name === folded ? 0 : name.startsWith(folded) ? 1 : 2;
    found.push([tier, e.rank, -e.weight, e]);
  }
  found.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  return found.slice(0, limit).map((f) => f[3].hit);
}

/** Which polygons of the zoom-12 tile under (lon, lat) hold it: the lookup answer, from tiles. */
async function lookup(lon, lat) {
  if (!archive) throw new Error('the tile archive is not open');
  const editions = await file('editions.json');
  const { x, y, fx, fy } = tileOf(LOOKUP_ZOOM, lon, lat);
  const tile = await archive.getZxy(LOOKUP_ZOOM, x, y);
  const layers = tile ? decodeTile(new Uint8Array(tile.data)) : new Map();
  const holding = (name) => {
    const layer = layers.get(name);
    if (!layer) return [];
    const point = [fx * layer.extent, fy * layer.extent];
    return layer.features.filter((f) => f.type === 3 && ringsContain(f.rings, point));
  };
  const territories = [];
  for (const e of editions) {
    for (const f of holding(`territories-${e.id}`)) {
      territories.push({ edition: e.id, id: f.properties.id, name: f.properties.name ?? f.properties.id });
    }
  }
  const units = [];
  for (const [layer, kind] of [['epci', 'EPCI'], ['ept', 'EPT']]) {
    for (const f of holding(layer)) units.push({ kind, code: f.properties.id, name: f.properties.name ?? f.properties.id });
  }
  return { lon, lat, territories, nearest: [], units, from_tiles: { zoom: LOOKUP_ZOOM, x, y } };
}

/** Answers an API path (`/api/...?...`) from the static files. */
export async function staticJSON(path) {
  const u = new URL(path, 'http://x');
  const p = u.pathname;
  const q = u.searchParams;
  let m;
  if (p === '/api/editions') return file('editions.json');
  if (p === '/api/territories') return file(`territories-${q.get('edition')}.json`);
  if ((m = p.match(/^\/api\/territories\/([^/]+)\/([^/]+)$/))) {
    const [edition, id] = [decodeURIComponent(m[1]), decodeURIComponent(m[2])];
    return file(`territories/${encodeURIComponent(edition)}/${encodeURIComponent(id)}.json`).catch(() => {
      throw notFound(`no territory ${id} in edition ${edition}`);
    });
  }
  if ((m = p.match(/^\/api\/units\/([^/]+)$/))) {
    const code = decodeURIComponent(m[1]);
    if (/^\d{9}$/.test(code)) return file(`units/${code}.json`).catch(() => { throw notFound(`no EPCI or EPT ${code}`); });
    const department = code.slice(0, code.startsWith('97') ? 3 : 2);
    const communes = await file(`communes/${encodeURIComponent(department)}.json`).catch(() => ({}));
    if (!communes[code]) throw notFound(`no commune ${code}`);
    return communes[code];
  }
  if (p === '/api/search') {
    return searchEntries(await file('search.json'), q.get('q') ?? '', q.get('edition'), Number(q.get('limit') ?? 10));
  }
  if (p === '/api/lookup') return lookup(Number(q.get('lon')), Number(q.get('lat')));
  throw notFound(`${p} is not available in the static site`);
}
