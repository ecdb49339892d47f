// The map style as a pure function of what the page shows (edition, comparison, selection, checked
// sites, hidden layer groups, base map): no MapLibre, no DOM, so node tests can read it. MapView hands
// each new style to MapLibre's setStyle with diff, which applies only what changed.

import { regionColorExpression } from './regions.js';

export const COLORS = {
  sea: '#dce8f0',
  land: '#f4f1e8',
  outline: '#3d3d3d',
  epci: '#6f6a60',
  ept: '#8e3b8e',
  selected: '#111111',
  unit: '#c2185b',
  site: '#d7191c',
  // Comparison: the chosen edition in blue, the compared one hatched over it, so "only before", "only
  // now" and "both" read apart at a glance (blended transparent fills turn into greys).
  current: '#2166ac',
  hatch: [0xa6, 0x48, 0x0a],
  compareLine: '#8a4b00',
  siteIn: '#1a9641',
  siteOut: '#7b7b7b',
  siteError: '#d7191c',
  commune: '#a39b8b',
  label: '#1f1f1f',
  labelHalo: 'rgba(255, 255, 255, 0.85)',
};

/** The font the server embeds and serves as SDF glyph ranges (src/render/glyphs.rs). */
export const FONT = 'DejaVu Sans Book';
export const COMPARE_OPACITY = 0.45;

/** Layers shown or hidden together by the legend's check boxes. */
export const GROUPS = {
  territories: ['ti-main-fill', 'ti-main-line', 'ti-selected', 'ti-compare-fill', 'ti-compare-line'],
  epci: ['epci-line', 'unit-selected'],
  ept: ['ept-line'],
  sites: ['batch-points', 'site-point'],
  places: ['commune-line', 'place-label'],
};

/** Name of the in-memory image the compared edition is hatched with (see `hatchImage`). */
export const HATCH = 'hatch';

export const EMPTY = Object.freeze({ type: 'FeatureCollection', features: Object.freeze([]) });
export const OSM_TILES = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';

/** The vector tiles of one layer; absolute, because tiles are fetched from a worker (its own base URL). */
/** With `archive` (the static site's PMTiles URL), every layer's tiles come from that one archive. */
export function tileUrls(origin, layer, archive = null) {
  if (archive) return [`pmtiles://${archive}/{z}/{x}/{y}`];
  return [`${origin}/tiles/${encodeURIComponent(layer)}/{z}/{x}/{y}.mvt`];
}

/** A `size`×`size` RGBA tile of diagonal lines, drawn in memory (no sprite to fetch). */
export function hatchImage(size, [r, g, b]) {
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      // Distance to the diagonal x + y = size (wrapping), for a line ~2 px wide with soft edges.
      const d = Math.min((x + y) % size, size - ((x + y) % size));
      const alpha = Math.max(0, Math.min(1, 1.6 - d)) * 230;
      data.set([r, g, b, Math.round(alpha)], 4 * (y * size + x));
    }
  }
  return { width: size, height: size, data };
}

/** Fill opacity of the main edition: stronger under the pointer (feature state `hover`). */
export function fillOpacity(comparing) {
  const hovered = ['boolean', ['feature-state', 'hover'], false];
  return comparing ? ['case', hovered, 0.7, COMPARE_OPACITY] : ['case', hovered, 0.85, 0.6];
}

/** Glyph ranges of the server's own font: labels need no font from the Internet. */
export function glyphsUrl(origin) {
  return `${origin}/fonts/{fontstack}/{range}.pbf`;
}

/**
 * Which label wins a collision: regional capitals, then prefectures, then the rest, the most populous
 * first within each rank (MapLibre places lower keys first). Populations stay under 10 million.
 */
export const PLACE_SORT_KEY = ['-', ['*', ['get', 'rank'], 10_000_000], ['get', 'population']];

function pointFeature(site) {
  return { type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [site.lon, site.lat] } };
}

function territorySource(origin, edition, archive) {
  return { type: 'vector', tiles: tileUrls(origin, `territories-${edition}`, archive), maxzoom: 12, promoteId: 'id' };
}

/** Which source draws the selected territory's outline: the compared edition's only when it is not the main one. */
function selectionSource({ edition, compare, selected }) {
  const onCompare = selected?.edition && selected.edition === compare && selected.edition !== edition;
  return onCompare ? { source: 'ti-compare', edition: compare } : { source: 'ti-main', edition };
}

/**
 * The whole style for these inputs, bottom layer first.
 * @param {{origin: string, edition?: string|null, compare?: string|null,
 *   selected?: {edition: string|null, id: string|null}|null, unit?: string|null,
 *   hidden?: Iterable<string>, osm?: boolean, site?: {lon: number, lat: number}|null,
 *   batch?: object|null}} inputs
 */
export function mapStyle({ origin, archive = null, edition = null, compare = null, selected = null, unit = null, hidden = [], osm = false, site = null, batch = null }) {
  const sources = {
    epci: { type: 'vector', tiles: tileUrls(origin, 'epci', archive), maxzoom: 12, promoteId: 'id' },
    ept: { type: 'vector', tiles: tileUrls(origin, 'ept', archive), maxzoom: 12, promoteId: 'id' },
    site: { type: 'geojson', data: site ? pointFeature(site) : EMPTY },
    batch: { type: 'geojson', data: batch ?? EMPTY },
  };
  // Commune names and borders come from the server's `places` tiles; the static site's archive has none.
  const places = !archive;
  if (places) sources.places = { type: 'vector', tiles: tileUrls(origin, 'places'), maxzoom: 12 };
  if (edition) sources['ti-main'] = territorySource(origin, edition, archive);
  if (compare) sources['ti-compare'] = territorySource(origin, compare, archive);
  if (osm) {
    sources.osm = {
      type: 'raster',
      tiles: [OSM_TILES],
      tileSize: 256,
      maxzoom: 19,
      attribution: '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
    };
  }
  const mainLayer = edition ? `territories-${edition}` : null;
  const compareLayer = compare ? `territories-${compare}` : null;
  const selection = selectionSource({ edition, compare, selected });

  const layers = [
    { id: 'background', type: 'background', paint: { 'background-color': COLORS.sea } },
    osm && { id: 'osm', type: 'raster', source: 'osm', paint: { 'raster-opacity': 0.85 } },
    {
      // The EPCIs tile the whole country, so their union is France's land: a map with no base map
      // still shows the coast and the overseas départements.
      id: 'land',
      type: 'fill',
      source: 'epci',
      'source-layer': 'epci',
      layout: { visibility: osm ? 'none' : 'visible' },
      paint: { 'fill-color': COLORS.land, 'fill-antialias': false },
    },
    edition && {
      id: 'ti-main-fill',
      type: 'fill',
      source: 'ti-main',
      'source-layer': mainLayer,
      paint: { 'fill-color': compare ? COLORS.current : regionColorExpression(), 'fill-opacity': fillOpacity(Boolean(compare)) },
    },
    compare && {
      id: 'ti-compare-fill',
      type: 'fill',
      source: 'ti-compare',
      'source-layer': compareLayer,
      paint: { 'fill-pattern': HATCH },
    },
    places && {
      // Thin and light: the commune grid is context under the EPCI and territory outlines.
      id: 'commune-line',
      type: 'line',
      source: 'places',
      'source-layer': 'communes',
      minzoom: 10,
      paint: { 'line-color': COLORS.commune, 'line-width': ['interpolate', ['linear'], ['zoom'], 10, 0.3, 14, 1] },
    },
    {
      id: 'epci-line',
      type: 'line',
      source: 'epci',
      'source-layer': 'epci',
      minzoom: 7,
      paint: {
        'line-color': COLORS.epci,
        'line-width': ['interpolate', ['linear'], ['zoom'], 7, 0.4, 12, 1.2],
        'line-dasharray': [3, 2],
      },
    },
    {
      id: 'ept-line',
      type: 'line',
      source: 'ept',
      'source-layer': 'ept',
      minzoom: 8,
      paint: { 'line-color': COLORS.ept, 'line-width': 1.2, 'line-dasharray': [1, 1.5] },
    },
    {
      id: 'unit-selected',
      type: 'line',
      source: 'epci',
      'source-layer': 'epci',
      filter: ['==', ['get', 'id'], unit ?? ''],
      paint: { 'line-color': COLORS.unit, 'line-width': 3 },
    },
    compare && {
      id: 'ti-compare-line',
      type: 'line',
      source: 'ti-compare',
      'source-layer': compareLayer,
      paint: { 'line-color': COLORS.compareLine, 'line-width': 1.2, 'line-dasharray': [2, 1.5] },
    },
    edition && {
      id: 'ti-main-line',
      type: 'line',
      source: 'ti-main',
      'source-layer': mainLayer,
      paint: {
        'line-color': COLORS.outline,
        'line-width': ['interpolate', ['linear'], ['zoom'], 4, 0.5, 8, 1.2, 12, 2],
      },
    },
    selection.edition && {
      id: 'ti-selected',
      type: 'line',
      source: selection.source,
      'source-layer': `territories-${selection.edition}`,
      filter: ['==', ['get', 'id'], selected?.id && selected.edition === selection.edition ? selected.id : ''],
      paint: { 'line-color': COLORS.selected, 'line-width': 3.5 },
    },
    places && {
      // Names over every outline but under the sites: a checked site is never hidden by a label.
      id: 'place-label',
      type: 'symbol',
      source: 'places',
      'source-layer': 'places',
      layout: {
        'text-field': ['get', 'name'],
        'text-font': [FONT],
        'text-size': [
          'interpolate',
          ['linear'],
          ['zoom'],
          4,
          ['match', ['get', 'rank'], 0, 12, 1, 11, 10],
          12,
          ['match', ['get', 'rank'], 0, 17, 1, 16, 13],
        ],
        'text-max-width': 8,
        'text-padding': 3,
        'symbol-sort-key': PLACE_SORT_KEY,
      },
      paint: {
        'text-color': COLORS.label,
        'text-halo-color': COLORS.labelHalo,
        'text-halo-width': 1.4,
        'text-halo-blur': 0.5,
      },
    },
    {
      id: 'batch-points',
      type: 'circle',
      source: 'batch',
      paint: {
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 4, 3, 10, 6],
        'circle-color': ['match', ['get', 'status'], 'in', COLORS.siteIn, 'error', COLORS.siteError, COLORS.siteOut],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 1,
      },
    },
    {
      id: 'site-point',
      type: 'circle',
      source: 'site',
      paint: {
        'circle-radius': 7,
        'circle-color': COLORS.site,
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 2.5,
      },
    },
  ].filter(Boolean);

  const off = new Set(hidden);
  for (const [group, ids] of Object.entries(GROUPS)) {
    if (!off.has(group)) continue;
    for (const layer of layers) if (ids.includes(layer.id)) layer.layout = { ...layer.layout, visibility: 'none' };
  }
  const style = { version: 8, sources, layers };
  if (places) style.glyphs = glyphsUrl(origin);
  return style;
}
