// The map: MapLibre drawing the style of style.js (our own vector tiles from /tiles, an optional
// OpenStreetMap base). MapView keeps the style's inputs and hands MapLibre a new style when one changes;
// it never builds layers itself. Commune names are drawn with the server's own glyphs (/fonts), so the
// map needs nothing from the Internet.

import {
  Map as MapLibre,
  NavigationControl,
  ScaleControl,
  AttributionControl,
  addProtocol,
} from '/vendor/maplibre-gl/maplibre-gl.mjs';
import { STATIC, ARCHIVE, registerProtocol } from './static-source.js';
import { AREAS } from './coords.js';
import { COLORS, HATCH, hatchImage, mapStyle } from './style.js';

// The static site draws from tiles.pmtiles: the protocol must be there before the first style.
if (STATIC) await registerProtocol(addProtocol);

export { COLORS };

/** How long the OpenStreetMap base may take to give a first tile before it counts as unreachable. */
const OSM_TIMEOUT_MS = 12000;
/** How long after a first failed base-map tile the others may still prove it reachable. */
const OSM_ERROR_GRACE_MS = 1000;

export class MapView {
  /**
   * @param {HTMLElement} container
   * @param {{onError: (error: {status?: number, message?: string}) => void, view?: {zoom, lat, lon},
   *   attribution: string, locale: object}} options `onError` gets MapLibre's error (a tile's has a status)
   */
  constructor(container, { onError, view, attribution, locale }) {
    this.onError = onError;
    /** The inputs of `mapStyle`: everything that decides what is drawn. */
    this.inputs = {
      origin: location.origin,
      archive: ARCHIVE,
      edition: null,
      compare: null,
      selected: { edition: null, id: null },
      unit: null,
      hidden: new Set(),
      osm: false,
      site: null,
      batch: null,
    };
    this.loaded = false;
    this.osm = { on: false, loaded: false, failed: false, timer: null, graceTimer: null, resolve: null };
    const [w, s, e, n] = AREAS.metro;
    this.map = new MapLibre({
      container,
      style: mapStyle(this.inputs),
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
    this.navigation = new NavigationControl({ showCompass: false });
    this.map.addControl(this.navigation, 'top-right');
    this.map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-right');
    this.attribution = new AttributionControl({ compact: true, customAttribution: attribution });
    this.map.addControl(this.attribution, 'bottom-right');
    this.attributionText = attribution;
    // Without a listener MapLibre prints errors to the console; we show them to the person instead.
    this.map.on('error', (event) => this.handleError(event));
    this.ready = new Promise((resolve) =>
      this.map.once('load', () => {
        // The compared edition's pattern: an image in memory, there before any layer uses it.
        this.map.addImage(HATCH, hatchImage(10, COLORS.hatch), { pixelRatio: 1 });
        this.loaded = true;
        this.apply();
        resolve();
      }),
    );
  }

  /** Changes some inputs of the style and redraws what they change. */
  update(changes) {
    Object.assign(this.inputs, changes);
    this.apply();
  }

  apply() {
    // Before `load` MapLibre cannot diff; the style made at load time already has the latest inputs.
    if (!this.loaded) return;
    this.map.setStyle(mapStyle(this.inputs), { diff: true });
  }

  /**
   * Names MapLibre's own controls in another language. MapLibre reads its `locale` option only when it
   * makes a control, and has no setter: the map's copy is updated and the controls made again.
   */
  setLocale(locale) {
    Object.assign(this.map._locale, locale);
    this.map.removeControl(this.navigation);
    this.navigation = new NavigationControl({ showCompass: false });
    this.map.addControl(this.navigation, 'top-right');
    const text = this.attributionText;
    this.attributionText = null;
    this.setAttribution(text);
    this.map.getCanvas().setAttribute('aria-label', locale['Map.Title']);
  }

  /** Replaces the attribution line (the chosen edition's source and licence). */
  setAttribution(text) {
    if (text === this.attributionText) return;
    this.attributionText = text;
    this.map.removeControl(this.attribution);
    this.attribution = new AttributionControl({ compact: true, customAttribution: text });
    this.map.addControl(this.attribution, 'bottom-right');
  }

  /** Shows the territories of `edition` (vector tiles `territories-EDITION`). */
  setEdition(edition) {
    this.update({ edition });
  }

  /** Shows a second edition, hatched over the first (null: none). */
  setCompare(edition) {
    this.update({ compare: edition });
  }

  /** Outlines the selected territory (of the main or the compared edition). */
  setSelected(edition, id) {
    this.update({ selected: { edition, id } });
  }

  /** Outlines an EPCI or EPT (by SIREN); other codes clear it. */
  setUnitSelected(code) {
    this.update({ unit: code });
  }

  /** The checked site ({lon, lat}) or none. */
  setSite(point) {
    this.update({ site: point ? { lon: point.lon, lat: point.lat } : null });
  }

  /** The sites of a checked file (a FeatureCollection) or none. */
  setBatch(collection) {
    this.update({ batch: collection ?? null });
  }

  setGroupVisible(group, visible) {
    const hidden = new Set(this.inputs.hidden);
    if (visible) hidden.delete(group);
    else hidden.add(group);
    this.update({ hidden });
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
    clearTimeout(this.osm.graceTimer);
    if (this.osm.resolve) this.osm.resolve(false);
    this.osm = { on, loaded: false, failed: false, timer: null, graceTimer: null, resolve: null };
    // Off then on: a fresh source, so a base that failed before is asked again.
    this.update({ osm: false });
    if (!on) return Promise.resolve(false);
    this.update({ osm: true });
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
      this.osm.timer = setTimeout(() => this.osmFailed(), OSM_TIMEOUT_MS);
    });
  }

  osmFailed() {
    if (!this.osm.on || this.osm.loaded || this.osm.failed) return;
    this.osm.failed = true;
    const resolve = this.osm.resolve;
    this.osm.resolve = null;
    this.osm.on = false;
    this.update({ osm: false });
    if (resolve) resolve(false);
  }

  handleError(event) {
    if (event.sourceId === 'osm') {
      // One failed tile is not yet an unreachable base: give the others a moment to arrive (a tile
      // that loads meanwhile keeps the base on; see setBaseMap).
      if (!this.osm.graceTimer) this.osm.graceTimer = setTimeout(() => this.osmFailed(), OSM_ERROR_GRACE_MS);
      return;
    }
    this.onError(event.error ?? {});
  }
}
