// The page's wiring: reads the URL, makes the store, the map, its controls and the panels, and connects
// them; the URL then follows the store. Logic lives in the modules it wires (style.js, url-state.js,
// panels/, controls/), not here.

import { MapView } from './map.js';
import { getJSON } from './api.js';
import { byId } from './dom.js';
import { parseCoordinates, mainAreaBox } from './coords.js';
import { t, setLanguage, language, applyStatic, mapLocale } from './i18n.js';
import { createStore } from './store.js';
import { parseUrl, parseHash, parseTerritory, queryString, viewHash } from './url-state.js';
import { defaultEdition, olderEdition, attributionText } from './editions.js';
import { Search } from './search.js';
import { Batch } from './batch.js';
import { AreaControl } from './controls/areas.js';
import { HoverLabel } from './controls/hover.js';
import { TerritoryPanel } from './panels/territory.js';
import { UnitPanel } from './panels/unit.js';
import { SitePanel } from './panels/site.js';
import { LegendPanel } from './panels/legend.js';
import { EditionPicker } from './panels/editions.js';
import { SharePanel } from './panels/share.js';
import { Status } from './panels/status.js';
import { errorMessage } from './panels/common.js';

const store = createStore({
  editions: [],
  edition: null,
  compare: null,
  /** {edition, id} of the territory in the panel, and its detail once loaded. */
  selected: null,
  territory: null,
  /** SIREN or INSEE code of the unit in the panel. */
  unit: null,
  /** {lon, lat, swapped} of the checked site, and the API's answer. */
  site: null,
  lookup: null,
});

// ---- the URL follows the store (and the map's view) ----

const URL_KEYS = new Set(['edition', 'compare', 'selected', 'unit', 'site']);
let urlTimer = null;
function writeUrl() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => {
    const query = queryString(store.get(), language());
    const c = view.map.getCenter();
    const hash = viewHash({ zoom: view.map.getZoom(), lat: c.lat, lon: c.lng });
    history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}${hash}`);
  }, 100);
}
store.subscribe((_, changed) => {
  if (changed.some((k) => URL_KEYS.has(k))) writeUrl();
});

// ---- the pieces ----

const initial = parseUrl(location.search, location.hash);
setLanguage(initial.lang ?? localStorage.getItem('territoires.lang') ?? 'fr');
applyStatic();
const langButton = byId('lang');
function labelLanguageButton() {
  // The other language's short name, and an accessible name that starts with it (WCAG 2.5.3: a voice
  // user says what they see), spoken in that language.
  langButton.textContent = t('langShort');
  langButton.setAttribute('aria-label', `${t('langShort')} — ${t('lang')}`);
  langButton.lang = language() === 'fr' ? 'en' : 'fr';
}
labelLanguageButton();

const status = new Status(byId('status'));
const say = (text, options) => status.say(text, options);

const view = new MapView(byId('map'), {
  view: initial.view,
  attribution: 'ANCT · IGN · INSEE — Licence Ouverte 2.0',
  locale: mapLocale(),
  // MapLibre's messages are English: the page says what failed in its own language.
  onError: (error) => say(t('error.map', { message: error.status ? t('error.map.tiles', { status: error.status }) : t('error.map.other') })),
});
view.map.addControl(new AreaControl({ onArea: (key) => view.goToArea(key) }), 'top-left');

const territoryPanel = new TerritoryPanel(byId('territory-panel'), { store, view, onOpen: () => unitPanel.close() });
const unitPanel = new UnitPanel(byId('unit-panel'), {
  store,
  view,
  onTerritory: (edition, id) => {
    const s = store.get();
    if (edition !== s.edition && edition !== s.compare) {
      picker.select(edition);
      setEdition(edition);
    }
    territoryPanel.open(edition, id, { fit: true });
  },
});
const sitePanel = new SitePanel(
  { result: byId('lookup-result'), details: byId('lookup-details') },
  {
    store,
    view,
    onTerritory: (edition, id, options) => territoryPanel.open(edition, id, options),
    onNoTerritory: () => {
      if (store.get().selected) territoryPanel.close();
    },
  },
);
const legend = new LegendPanel({ store, view, say });
const picker = new EditionPicker({ store, onEdition: (id) => setEdition(id), onCompare: (id) => setCompare(id) });
const share = new SharePanel({ view });
const hover = new HoverLabel(byId('hover'), { view, comparing: () => Boolean(store.get().compare) });

const search = new Search(byId('search'), byId('search-list'), {
  edition: () => store.get().edition,
  onChoose: (item) => {
    if (item.kind === 'territory') {
      const s = store.get();
      const edition = item.edition ?? s.edition;
      if (edition !== s.edition && edition !== s.compare) setEdition(edition);
      territoryPanel.open(edition, item.code, { fit: true });
    } else {
      territoryPanel.close();
      unitPanel.open(item.code, { fit: true });
    }
  },
});

const batch = new Batch({
  edition: () => store.get().edition,
  onSites: (collection, fresh) => {
    view.setBatch(collection);
    view.map.resize();
    if (fresh && collection.features.length > 0) {
      view.fitBbox(mainAreaBox(collection.features.map((f) => f.geometry.coordinates)), { maxZoom: 12 });
    }
  },
  onShow: (site) => {
    if (!Number.isFinite(site.lon) || !Number.isFinite(site.lat)) return;
    view.map.flyTo({ center: [site.lon, site.lat], zoom: Math.max(view.map.getZoom(), 11) });
    sitePanel.check({ lon: site.lon, lat: site.lat });
  },
});

// ---- editions ----

function editionMeta(id) {
  return store.get().editions.find((x) => x.id === id);
}

function setEdition(edition) {
  const s = store.get();
  const compare = s.compare === edition ? olderEdition(s.editions, edition) : s.compare;
  store.set({ edition, compare });
  view.setAttribution(attributionText(editionMeta(edition)));
  picker.render();
  view.update({ edition, compare });
  share.setEdition(edition);
  legend.render();
  search.reset();
  batch.render();
  // The checked site answers for every edition: show the new one and select its territory there.
  const { lookup, selected } = store.get();
  if (lookup) {
    sitePanel.render();
    sitePanel.selectTerritory();
  } else if (selected && selected.edition !== edition && selected.edition !== compare) {
    territoryPanel.close();
  }
}

function setCompare(compare) {
  store.set({ compare });
  picker.showCompare(compare);
  view.setCompare(compare);
  legend.renderCompare();
  if (store.get().territory) territoryPanel.render();
}

// ---- start ----

async function start() {
  let editions;
  try {
    editions = await getJSON('/api/editions');
  } catch (error) {
    say(errorMessage(error, { what: 'editions' }), { sticky: true });
    return;
  }
  await view.ready;
  store.set({ editions });
  if (editions.length === 0) {
    say(t('editions.none'), { sticky: true });
    document.body.dataset.ready = 'true';
    return;
  }
  const ids = editions.map((e) => e.id);
  const edition = ids.includes(initial.edition) ? initial.edition : defaultEdition(editions);
  const compare = ids.includes(initial.compare) && initial.compare !== edition ? initial.compare : null;
  store.set({ edition, compare });
  picker.showCompare(compare);
  picker.render();
  picker.proposeOlder();
  view.update({ edition, compare });
  view.setAttribution(attributionText(editionMeta(edition)));
  share.setEdition(edition);
  legend.render();

  if (initial.territory) {
    const { edition: e, id } = parseTerritory(initial.territory, edition);
    if (ids.includes(e)) territoryPanel.open(e, id, { fit: !initial.view });
  }
  if (initial.unit) unitPanel.open(initial.unit, { fit: !initial.view && !initial.territory });
  if (initial.lookup) {
    await sitePanel.check(initial.lookup, { select: !initial.territory, fly: !initial.view && !initial.territory });
  }
  wire();
  writeUrl();
  document.body.dataset.ready = 'true';
}

function wire() {
  const map = view.map;
  hover.wire();
  map.on('click', (e) => sitePanel.check({ lon: e.lngLat.lng, lat: e.lngLat.lat }));
  map.on('moveend', writeUrl);
  window.addEventListener('hashchange', () => {
    const v = parseHash(location.hash);
    if (v) map.jumpTo({ center: [v.lon, v.lat], zoom: v.zoom });
  });
  picker.wire();
  legend.wire();
  share.wire();

  const coords = byId('coords');
  byId('site-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const parsed = parseCoordinates(coords.value);
    if (parsed.error) sitePanel.invalid(parsed.error);
    else sitePanel.check(parsed, { fly: true });
  });
  byId('check-centre').addEventListener('click', () => {
    const c = map.getCenter();
    sitePanel.check({ lon: c.lng, lat: c.lat });
  });

  langButton.addEventListener('click', () => {
    setLanguage(language() === 'fr' ? 'en' : 'fr');
    localStorage.setItem('territoires.lang', language());
    applyStatic();
    labelLanguageButton();
    view.setLocale(mapLocale());
    picker.render();
    legend.render();
    sitePanel.render();
    territoryPanel.render();
    const { unit } = store.get();
    if (unit) unitPanel.open(unit);
    batch.render();
    writeUrl();
  });
}

// Handles for the browser tests and for anyone debugging from the console.
window.territoires = {
  map: view.map,
  get state() {
    return store.get();
  },
};
start();
