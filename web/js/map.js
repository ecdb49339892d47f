// The map: MapLibre with our own layers only (vector tiles from /tiles), an optional OpenStreetMap base.
// No symbol layers: labels would need glyph fonts from a server, and the page must work offline; names
// are shown in the hover label and the panel instead.

import {
  Map as MapLibre,
  NavigationControl,
  ScaleControl,
  AttributionControl,
} from '/vendor/maplibre-gl/maplibre-gl.mjs';
import { regionColorExpression } from './regions.js';
import { AREAS } from './coords.js';

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
  siteIn: '#1a9641',
  siteOut: '#7b7b7b',
  siteError: '#d7191c',
};
export const COMPARE_OPACITY = 0.45;

/** Drawing order, bottom to top; layers are inserted at their place whatever the order they are added in. */
const ORDER = [
  'background',
  'osm',
  'land',
  'ti-main-fill',
  'ti-compare-fill',
  'epci-line',
  'ept-line',
  'unit-selected',
  'ti-compare-line',
  'ti-main-line',
  'ti-selected',
  'batch-points',
  'site-point',
];

/** Layers shown or hidden together by the legend's check boxes. */
const GROUPS = {
  territories: ['ti-main-fill', 'ti-main-line', 'ti-selected', 'ti-compare-fill', 'ti-compare-line'],
  epci: ['epci-line', 'unit-selected'],
  ept: ['ept-line'],
  sites: ['batch-points', 'site-point'],
};

const EMPTY = { type: 'FeatureCollection', features: [] };
const OSM_TILES = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';

/** A `size`×`size` tile of diagonal lines, drawn in memory (no sprite to fetch). */
function hatch(size, [r, g, b]) {
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

function tiles(layer) {
  // Absolute: the tiles are fetched from a worker, whose base URL is the worker script's.
  return [`${location.origin}/tiles/${encodeURIComponent(layer)}/{z}/{x}/{y}.mvt`];
}

export class MapView {
  /**
   * @param {HTMLElement} container
   * @param {{onError: (message: string) => void, view?: {zoom, lat, lon}}} options
   */
  constructor(container, { onError, view, attribution, locale }) {
    this.onError = onError;
    this.edition = null;
    this.compare = null;
    this.hidden = new Set();
    this.selected = { edition: null, id: null };
    this.osm = { on: false, loaded: false, failed: false, timer: null, resolve: null };
    const [w, s, e, n] = AREAS.metro;
    this.map = new MapLibre({
      container,
      style: this.baseStyle(),
      ...(view ? { center: [view.lon, view.lat], zoom: view.zoom } : { bounds: [w, s, e, n] }),
      fitBoundsOptions: { padding: 10 },
      minZoom: 1,
      maxZoom: 17,
      attributionControl: false,
      // Kept so that printing and screenshots get the drawn map, not a cleared buffer.
      canvasContextAttributes: { preserveDrawingBuffer: true, antialias: true },
      dragRotate: false,
      pitchWithRotate: false,
      touchPitch: false,
      locale,
      // On a phone the page scrolls past the map: one finger scrolls the page, two move the map.
      cooperativeGestures: matchMedia('(max-width: 760px) and (pointer: coarse)').matches,
    });
    this.map.touchZoomRotate.disableRotation();
    this.map.keyboard.disableRotation();
    this.map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
    this.map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-right');
    this.attribution = new AttributionControl({ compact: true, customAttribution: attribution });
    this.map.addControl(this.attribution, 'bottom-right');
    this.attributionText = attribution;
    // Without a listener MapLibre prints errors to the console; we show them to the person instead.
    this.map.on('error', (event) => this.handleError(event));
    this.ready = new Promise((resolve) => this.map.once('load', resolve));
  }
  /** Replaces the attribution line (the chosen edition's source and licence). */
  setAttribution(text) {
    if (text === this.attributionText) return;
    this.attributionText = text;
    this.map.removeControl(this.attribution);
    this.attribution = new AttributionControl({ compact: true, customAttribution: text });
    this.map.addControl(this.attribution, 'bottom-right');
  }


  baseStyle() {
    return {
      version: 8,
      sources: {
        epci: { type: 'vector', tiles: tiles('epci'), maxzoom: 12, promoteId: 'id' },
        ept: { type: 'vector', tiles: tiles('ept'), maxzoom: 12, promoteId: 'id' },
        site: { type: 'geojson', data: EMPTY },
        batch: { type: 'geojson', data: EMPTY },
      },
      layers: [
        { id: 'background', type: 'background', paint: { 'background-color': COLORS.sea } },
        {
          // The EPCIs tile the whole country, so their union is France's land: a map with no base map
          // still shows the coast and the overseas départements.
          id: 'land',
          type: 'fill',
          source: 'epci',
          'source-layer': 'epci',
          paint: { 'fill-color': COLORS.land, 'fill-antialias': false },
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
          filter: ['==', ['get', 'id'], ''],
          paint: { 'line-color': COLORS.unit, 'line-width': 3 },
        },
        {
          id: 'batch-points',
          type: 'circle',
          source: 'batch',
          paint: {
            'circle-radius': ['interpolate', ['linear'], ['zoom'], 4, 3, 10, 6],
            'circle-color': [
              'match',
              ['get', 'status'],
              'in',
              COLORS.siteIn,
              'error',
              COLORS.siteError,
              COLORS.siteOut,
            ],
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
      ],
    };
  }

  addOrdered(layer) {
    const after = ORDER.slice(ORDER.indexOf(layer.id) + 1).find((id) => this.map.getLayer(id));
    const group = Object.entries(GROUPS).find(([, ids]) => ids.includes(layer.id));
    if (group && this.hidden.has(group[0])) layer.layout = { ...layer.layout, visibility: 'none' };
    this.map.addLayer(layer, after);
  }

  removeIfPresent(ids, source) {
    for (const id of ids) if (this.map.getLayer(id)) this.map.removeLayer(id);
    if (source && this.map.getSource(source)) this.map.removeSource(source);
  }

  /** Shows the territories of `edition` (vector tiles `territories-EDITION`). */
  setEdition(edition) {
    this.edition = edition;
    this.removeIfPresent(['ti-selected', 'ti-main-line', 'ti-main-fill'], 'ti-main');
    const sourceLayer = `territories-${edition}`;
    this.map.addSource('ti-main', { type: 'vector', tiles: tiles(sourceLayer), maxzoom: 12, promoteId: 'id' });
    this.addOrdered({
      id: 'ti-main-fill',
      type: 'fill',
      source: 'ti-main',
      'source-layer': sourceLayer,
      paint: { 'fill-color': regionColorExpression(), 'fill-opacity': this.fillOpacity() },
    });
    this.addOrdered({
      id: 'ti-main-line',
      type: 'line',
      source: 'ti-main',
      'source-layer': sourceLayer,
      paint: {
        'line-color': COLORS.outline,
        'line-width': ['interpolate', ['linear'], ['zoom'], 4, 0.5, 8, 1.2, 12, 2],
      },
    });
    this.applyCompareColors();
    this.setSelected(this.selected.edition, this.selected.id);
  }

  fillOpacity() {
    const hovered = ['boolean', ['feature-state', 'hover'], false];
    return this.compare ? ['case', hovered, 0.7, COMPARE_OPACITY] : ['case', hovered, 0.85, 0.6];
  }

  /** Shows a second edition, hatched over the first (null: none). */
  setCompare(edition) {
    this.compare = edition;
    this.removeIfPresent(['ti-compare-line', 'ti-compare-fill'], 'ti-compare');
    if (edition) {
      const sourceLayer = `territories-${edition}`;
      this.map.addSource('ti-compare', { type: 'vector', tiles: tiles(sourceLayer), maxzoom: 12, promoteId: 'id' });
      if (!this.map.hasImage('hatch')) this.map.addImage('hatch', hatch(10, COLORS.hatch), { pixelRatio: 1 });
      this.addOrdered({
        id: 'ti-compare-fill',
        type: 'fill',
        source: 'ti-compare',
        'source-layer': sourceLayer,
        paint: { 'fill-pattern': 'hatch' },
      });
      this.addOrdered({
        id: 'ti-compare-line',
        type: 'line',
        source: 'ti-compare',
        'source-layer': sourceLayer,
        paint: { 'line-color': '#8a4b00', 'line-width': 1.2, 'line-dasharray': [2, 1.5] },
      });
    }
    this.applyCompareColors();
    this.setSelected(this.selected.edition, this.selected.id);
  }

  applyCompareColors() {
    if (!this.map.getLayer('ti-main-fill')) return;
    this.map.setPaintProperty(
      'ti-main-fill',
      'fill-color',
      this.compare ? COLORS.current : regionColorExpression(),
    );
    this.map.setPaintProperty('ti-main-fill', 'fill-opacity', this.fillOpacity());
  }

  /** Outlines the selected territory (of the main or the compared edition). */
  setSelected(edition, id) {
    this.selected = { edition, id };
    this.removeIfPresent(['ti-selected']);
    const source = edition && edition === this.compare && edition !== this.edition ? 'ti-compare' : 'ti-main';
    const sourceEdition = source === 'ti-compare' ? this.compare : this.edition;
    if (!this.map.getSource(source) || !sourceEdition) return;
    this.addOrdered({
      id: 'ti-selected',
      type: 'line',
      source,
      'source-layer': `territories-${sourceEdition}`,
      filter: ['==', ['get', 'id'], id && edition === sourceEdition ? id : ''],
      paint: { 'line-color': COLORS.selected, 'line-width': 3.5 },
    });
  }

  /** Outlines an EPCI or EPT (by SIREN); other codes clear it. */
  setUnitSelected(code) {
    this.map.setFilter('unit-selected', ['==', ['get', 'id'], code ?? '']);
  }

  setSite(point) {
    const data = point
      ? { type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [point.lon, point.lat] } }
      : EMPTY;
    this.map.getSource('site').setData(data);
  }

  setBatch(collection) {
    this.map.getSource('batch').setData(collection ?? EMPTY);
  }

  setGroupVisible(group, visible) {
    if (visible) this.hidden.delete(group);
    else this.hidden.add(group);
    for (const id of GROUPS[group]) {
      if (this.map.getLayer(id)) this.map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none');
    }
  }

  /** Fill layers under the pointer, main edition first. */
  territoriesAt(point) {
    const layers = ['ti-main-fill', 'ti-compare-fill'].filter((id) => this.map.getLayer(id));
    if (layers.length === 0) return [];
    return this.map.queryRenderedFeatures(point, { layers });
  }

  fitBbox(bbox, { maxZoom = 11, animate = true } = {}) {
    const [w, s, e, n] = bbox;
    this.map.fitBounds(
      [
        [w, s],
        [e, n],
      ],
      { padding: 40, maxZoom, animate, duration: animate ? 800 : 0 },
    );
  }

  goToArea(key) {
    this.fitBbox(AREAS[key], { maxZoom: 9 });
  }

  /**
   * Turns the OpenStreetMap base on or off. Resolves true once a tile has loaded, false when none could
   * be (offline, blocked): the base is then switched off again.
   */
  setBaseMap(on) {
    clearTimeout(this.osm.timer);
    if (this.osm.resolve) this.osm.resolve(false);
    this.osm = { on, loaded: false, failed: false, timer: null, resolve: null };
    this.removeIfPresent(['osm'], 'osm');
    this.map.setLayoutProperty('land', 'visibility', on ? 'none' : 'visible');
    if (!on) return Promise.resolve(false);
    this.map.addSource('osm', {
      type: 'raster',
      tiles: [OSM_TILES],
      tileSize: 256,
      maxzoom: 19,
      attribution: '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
    });
    this.addOrdered({ id: 'osm', type: 'raster', source: 'osm', paint: { 'raster-opacity': 0.85 } });
    return new Promise((resolve) => {
      this.osm.resolve = resolve;
      const onData = (event) => {
        if (event.sourceId === 'osm' && event.tile && this.osm.on) {
          this.osm.loaded = true;
          this.map.off('sourcedata', onData);
          clearTimeout(this.osm.timer);
          this.osm.resolve = null;
          resolve(true);
        }
      };
      this.map.on('sourcedata', onData);
      // No tile within this time: treat the base map as unreachable rather than leave a blank background.
      this.osm.timer = setTimeout(() => this.osmFailed(), 12000);
    });
  }

  osmFailed() {
    if (!this.osm.on || this.osm.loaded || this.osm.failed) return;
    this.osm.failed = true;
    const resolve = this.osm.resolve;
    this.osm.resolve = null;
    this.removeIfPresent(['osm'], 'osm');
    this.map.setLayoutProperty('land', 'visibility', 'visible');
    this.osm.on = false;
    if (resolve) resolve(false);
  }

  handleError(event) {
    if (event.sourceId === 'osm') {
      this.osmFailed();
      return;
    }
    const message = event.error?.message ?? String(event.error ?? 'map error');
    this.onError(message);
  }
}
