// The page: state (edition, comparison, selection, checked site), the URL that mirrors it, and the
// wiring between the map, the search box, the panels and the batch check.

import { MapView } from './map.js';
import { getJSON, url } from './api.js';
import { h, fill, byId } from './dom.js';
import { parseCoordinates, AREAS } from './coords.js';
import { t, setLanguage, language, applyStatic, formatNumber, formatDistance, mapLocale } from './i18n.js';
import { REGIONS, regionName } from './regions.js';
import { Search } from './search.js';
import { Batch } from './batch.js';

const state = {
  editions: [],
  edition: null,
  compare: null,
  /** {edition, id} of the territory in the panel. */
  selected: null,
  territory: null,
  /** SIREN or INSEE code of the unit in the panel. */
  unit: null,
  /** {lon, lat, swapped} of the checked site, and the API's answer. */
  site: null,
  lookup: null,
  /** Territory summaries per edition (region legend, names). */
  summaries: new Map(),
};

const els = {
  edition: byId('edition'),
  compare: byId('compare'),
  compareEdition: byId('compare-edition'),
  compareLegend: byId('compare-legend'),
  regionLegend: byId('region-legend'),
  status: byId('status'),
  territory: byId('territory-panel'),
  unit: byId('unit-panel'),
  lookup: byId('lookup-result'),
  lookupDetails: byId('lookup-details'),
  coords: byId('coords'),
  hover: byId('hover'),
  exportLink: byId('export-geojson'),
  shareNote: byId('share-note'),
  lang: byId('lang'),
};

// ---- URL: ?edition=&compare=&territory=&unit=&lookup=LON,LAT&lang=en#zoom/lat/lon ----

function readUrl() {
  const params = new URLSearchParams(location.search);
  const out = {
    edition: params.get('edition'),
    compare: params.get('compare'),
    territory: params.get('territory'),
    unit: params.get('unit'),
    lookup: null,
    lang: params.get('lang'),
    view: parseHash(location.hash),
  };
  const lookup = params.get('lookup');
  if (lookup) {
    const [lon, lat] = lookup.split(',').map(Number);
    if (Number.isFinite(lon) && Number.isFinite(lat) && Math.abs(lon) <= 180 && Math.abs(lat) <= 90) {
      out.lookup = { lon, lat };
    }
  }
  return out;
}

function parseHash(hash) {
  const parts = hash.replace(/^#/, '').split('/').map(Number);
  if (parts.length < 3 || parts.some((p) => !Number.isFinite(p))) return null;
  const [zoom, lat, lon] = parts;
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180 || zoom < 0 || zoom > 24) return null;
  return { zoom, lat, lon };
}

function viewHash() {
  const c = view.map.getCenter();
  return `#${view.map.getZoom().toFixed(2)}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}`;
}

/** Encodes a query value, leaving `,` and `:` readable (both are legal in a query). */
function enc(value) {
  return encodeURIComponent(value).replace(/%2C/g, ',').replace(/%3A/g, ':');
}

function queryString() {
  const pairs = [];
  if (state.edition) pairs.push(['edition', state.edition]);
  if (state.compare) pairs.push(['compare', state.compare]);
  if (state.selected) {
    const { edition, id } = state.selected;
    pairs.push(['territory', edition === state.edition ? id : `${edition}:${id}`]);
  }
  if (state.unit) pairs.push(['unit', state.unit]);
  if (state.site) pairs.push(['lookup', `${round(state.site.lon)},${round(state.site.lat)}`]);
  if (language() !== 'fr') pairs.push(['lang', language()]);
  return pairs.map(([k, v]) => `${k}=${enc(v)}`).join('&');
}

function round(x) {
  return Number(x.toFixed(6));
}

let urlTimer = null;
function writeUrl() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => {
    const query = queryString();
    history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}${viewHash()}`);
  }, 100);
}

// ---- status line ----

let statusTimer = null;
function say(text, { sticky = false } = {}) {
  els.status.textContent = text;
  clearTimeout(statusTimer);
  if (!sticky && text) statusTimer = setTimeout(() => (els.status.textContent = ''), 8000);
}

// ---- editions ----

function defaultEdition(editions) {
  // The latest programme year when editions are named by year; otherwise the server's first.
  const years = editions.map((e) => e.id).filter((id) => /^\d{4}$/.test(id)).sort();
  return years.length > 0 ? years[years.length - 1] : editions[0]?.id;
}

/** The edition's label in the page's language (its id when the server has no metadata for it). */
function editionLabel(e) {
  const label = e?.meta?.label;
  return (language() === 'en' ? label?.en : label?.fr) || label?.fr || e?.id || '';
}

/** The attribution line: the chosen edition's own text, then the boundaries' sources. */
function attributionText() {
  const e = state.editions.find((x) => x.id === state.edition);
  const list = e?.meta?.attribution ? `${e.meta.attribution} (${e.meta.licence?.name ?? 'Licence Ouverte 2.0'})` : 'ANCT';
  return `${list} · IGN · INSEE — Licence Ouverte 2.0`;
}

function fillEditionSelects() {
  const option = (e) => {
    const params = { id: e.id, label: editionLabel(e), date: e.meta?.list_date, count: e.territories };
    return h('option', { value: e.id }, t(e.meta?.list_date ? 'editions.dated' : 'editions.count', params));
  };
  fill(els.edition, state.editions.map(option));
  els.edition.value = state.edition ?? '';
  const others = state.editions.filter((e) => e.id !== state.edition);
  fill(els.compareEdition, others.map(option));
  if (state.compare) els.compareEdition.value = state.compare;
  els.compare.disabled = others.length === 0;
  els.compareEdition.disabled = others.length === 0;
}

function olderEdition(edition) {
  // Compare with the previous year by default, else any other edition.
  const others = state.editions.map((e) => e.id).filter((id) => id !== edition);
  const older = others.filter((id) => /^\d{4}$/.test(id) && id < edition).sort();
  return older.length > 0 ? older[older.length - 1] : others[0] ?? null;
}

async function summaries(edition) {
  if (!state.summaries.has(edition)) {
    state.summaries.set(edition, getJSON(url('/api/territories', { edition })));
  }
  return state.summaries.get(edition);
}

async function renderRegionLegend() {
  if (!state.edition) return;
  const list = await summaries(state.edition).catch(() => []);
  const present = new Set(list.map((s) => s.region));
  const items = Object.entries(REGIONS)
    .filter(([code]) => present.has(code))
    .map(([code, r]) =>
      h('li', {}, swatch(r.color), `${r.name} (${list.filter((s) => s.region === code).length})`),
    );
  fill(els.regionLegend, items);
}

function swatch(color) {
  const el = h('span', { class: 'swatch' });
  // CSSOM, not a style attribute: allowed by the page's CSP.
  el.style.backgroundColor = color;
  return el;
}

function renderCompareLegend() {
  // The territories' swatch follows the drawing: region colours, or blue while comparing.
  byId('sw-territories').classList.toggle('cmp-joined', Boolean(state.compare));
  byId('lg-territories').textContent = state.compare
    ? t('layers.territoriesCompare', { edition: state.edition })
    : t('layers.territories');
  byId('regions').hidden = Boolean(state.compare);
  els.compareLegend.hidden = !state.compare;
  if (!state.compare) return;
  byId('lg-left').textContent = t('compare.left', { a: state.compare });
  byId('lg-joined').textContent = t('compare.joined', { b: state.edition });
  byId('lg-both').textContent = t('compare.both');
}

function updateExportLink() {
  els.exportLink.href = url('/api/layers/territories.geojson', { edition: state.edition });
  els.exportLink.download = `territoires-industrie-${state.edition}.geojson`;
}

function setEdition(edition) {
  state.edition = edition;
  view.setAttribution(attributionText());
  if (state.compare === edition) state.compare = olderEdition(edition);
  fillEditionSelects();
  view.setEdition(edition);
  view.setCompare(state.compare);
  updateExportLink();
  renderRegionLegend();
  renderCompareLegend();
  search.reset();
  batch.render();
  // The checked site answers for every edition: show the new one and select its territory there.
  if (state.lookup) {
    renderLookup();
    selectFromLookup();
  } else if (state.selected && state.selected.edition !== edition && state.selected.edition !== state.compare) {
    closeTerritory();
  }
  writeUrl();
}

function setCompare(edition) {
  state.compare = edition;
  els.compare.checked = Boolean(edition);
  if (edition) els.compareEdition.value = edition;
  view.setCompare(edition);
  renderCompareLegend();
  if (state.territory) renderTerritory(state.territory);
  writeUrl();
}

// ---- territory panel ----

function closeButton(onClick) {
  return h('button', { type: 'button', class: 'close', 'aria-label': t('close'), onclick: onClick }, '×');
}

function closeTerritory() {
  state.selected = null;
  state.territory = null;
  els.territory.hidden = true;
  fill(els.territory);
  view.setSelected(null, null);
  writeUrl();
}

async function selectTerritory(edition, id, { fit = false } = {}) {
  state.selected = { edition, id };
  view.setSelected(edition, id);
  closeUnit({ keepUrl: true });
  els.territory.hidden = false;
  fill(els.territory, h('p', { class: 'loading' }, t('territory.loading')));
  writeUrl();
  try {
    const detail = await getJSON(`/api/territories/${encodeURIComponent(edition)}/${encodeURIComponent(id)}`);
    if (state.selected?.id !== id || state.selected?.edition !== edition) return;
    state.territory = detail;
    renderTerritory(detail);
    if (fit) view.fitBbox(detail.bbox);
  } catch (error) {
    fill(els.territory, closeButton(closeTerritory), h('p', { class: 'error' }, t('error.load', { message: error.message })));
  }
}

function territoryLink(edition, id) {
  const query = new URLSearchParams({ edition: state.edition ?? edition, territory: edition === state.edition ? id : `${edition}:${id}` });
  return `?${query.toString().replace(/%3A/g, ':')}`;
}

function renderTerritory(d) {
  const other = state.compare && d.edition === state.edition ? state.compare : d.edition !== state.edition ? state.edition : null;
  const zoom = h('a', { href: territoryLink(d.edition, d.id), class: 'zoom-link', 'data-testid': 'zoom-to-territory' }, t('territory.zoom'));
  zoom.addEventListener('click', (e) => {
    e.preventDefault();
    view.fitBbox(d.bbox);
  });
  const rows = d.member_list.map((m) =>
    h(
      'tr',
      { dataset: { code: m.code } },
      h('td', {}, t(`kind.${m.kind}`)),
      h('td', {}, m.name),
      h('td', { class: 'num' }, m.siren ?? ''),
      other ? h('td', { class: 'compare-cell', 'data-member': m.code }, '…') : null,
    ),
  );
  fill(
    els.territory,
    closeButton(closeTerritory),
    h('p', { class: 'kicker' }, t('territory.kicker', { edition: d.edition })),
    h('h2', { 'data-testid': 'territory-name' }, d.name),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, t('territory.code')),
      h('dd', {}, d.id),
      h('dt', {}, t('territory.region')),
      h('dd', {}, d.region_name ?? regionName(d.region)),
      h('dt', {}, t('territory.area')),
      h('dd', {}, t('km2', { value: formatNumber(d.area_km2, 1) })),
      h('dt', {}, t('territory.members')),
      h('dd', {}, formatNumber(d.members)),
      h('dt', {}, t('territory.communes')),
      h('dd', { 'data-testid': 'territory-communes' }, formatNumber(d.communes)),
      h('dt', {}, t('territory.population', { year: state.editions.find((x) => x.id === d.edition)?.meta?.population?.year ?? '' })),
      h('dd', { 'data-testid': 'territory-population' }, formatNumber(d.population)),
    ),
    h('p', {}, zoom),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'members', 'data-testid': 'members' },
        h('caption', { class: 'visually-hidden' }, t('territory.members')),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, t('member.kind')),
            h('th', { scope: 'col' }, t('member.name')),
            h('th', { scope: 'col' }, t('member.siren')),
            other ? h('th', { scope: 'col' }, t('compare.column', { edition: other })) : null,
          ),
        ),
        h('tbody', {}, rows),
      ),
    ),
  );
  if (other) fillMemberComparison(d, other);
}

/** For each member, the territory it belongs to in the other edition, or that it joined / left. */
async function fillMemberComparison(d, other) {
  const joinedOrLeft = d.edition === state.edition ? t('compare.joinedMember') : t('compare.leftMember');
  await Promise.all(
    d.member_list.map(async (m) => {
      let text;
      try {
        const unit = await getJSON(`/api/units/${encodeURIComponent(m.code)}`);
        const there = unit.territories.filter((x) => x.edition === other);
        text = there.length > 0 ? there.map((x) => x.name).join(', ') : joinedOrLeft;
      } catch {
        text = '?';
      }
      if (state.territory !== d) return;
      const cell = els.territory.querySelector(`td[data-member="${CSS.escape(m.code)}"]`);
      if (cell) {
        cell.textContent = text;
        cell.classList.toggle('changed', text === joinedOrLeft);
      }
    }),
  );
}

// ---- unit panel (an EPCI, EPT or commune chosen in the search) ----

function closeUnit({ keepUrl = false } = {}) {
  state.unit = null;
  els.unit.hidden = true;
  fill(els.unit);
  view.setUnitSelected(null);
  if (!keepUrl) writeUrl();
}

async function showUnit(code, { fit = false } = {}) {
  state.unit = code;
  els.unit.hidden = false;
  fill(els.unit, h('p', { class: 'loading' }, '…'));
  writeUrl();
  try {
    const u = await getJSON(`/api/units/${encodeURIComponent(code)}`);
    if (state.unit !== code) return;
    view.setUnitSelected(u.kind === 'COM' ? null : u.code);
    const zoom = h('a', { href: `?unit=${enc(code)}`, class: 'zoom-link' }, t('unit.zoom'));
    zoom.addEventListener('click', (e) => {
      e.preventDefault();
      view.fitBbox(u.bbox, { maxZoom: 13 });
    });
    const territories = u.territories.map((x) => {
      const link = h('a', { href: territoryLink(x.edition, x.id) }, x.name);
      link.addEventListener('click', (e) => {
        e.preventDefault();
        if (x.edition !== state.edition && x.edition !== state.compare) {
          els.edition.value = x.edition;
          setEdition(x.edition);
        }
        selectTerritory(x.edition, x.id, { fit: true });
      });
      return h('li', {}, `${x.edition} : `, link, x.via && x.via.code !== u.code ? ` (${t('site.via', { kind: x.via.kind, name: x.via.name, code: x.via.code })})` : '');
    });
    fill(
      els.unit,
      closeButton(() => closeUnit()),
      h('p', { class: 'kicker' }, t('unit.kicker', { kind: t(`kind.${u.kind}`), code: u.insee ?? u.code })),
      h('h2', {}, u.name),
      h(
        'dl',
        { class: 'facts' },
        u.siren ? [h('dt', {}, t('member.siren')), h('dd', {}, u.siren)] : null,
        u.population ? [h('dt', {}, t('unit.population')), h('dd', {}, formatNumber(u.population))] : null,
        u.communes ? [h('dt', {}, t('unit.communes')), h('dd', {}, formatNumber(u.communes))] : null,
        u.parents?.length ? [h('dt', {}, t('unit.parents')), h('dd', {}, u.parents.map((p) => p.name).join(', '))] : null,
      ),
      h('h3', {}, t('unit.territories')),
      territories.length > 0 ? h('ul', { class: 'plain' }, territories) : h('p', {}, t('unit.none')),
      h('p', {}, zoom),
    );
    if (fit) view.fitBbox(u.bbox, { maxZoom: 13 });
  } catch (error) {
    fill(els.unit, closeButton(() => closeUnit()), h('p', { class: 'error' }, t('error.load', { message: error.message })));
  }
}

// ---- checking a site ----

async function checkSite(site, { select = true, fly = false } = {}) {
  state.site = site;
  state.lookup = null;
  view.setSite(site);
  els.lookup.hidden = false;
  els.lookupDetails.hidden = true;
  delete els.lookup.dataset.edition;
  delete els.lookup.dataset.territory;
  fill(els.lookup, h('p', { class: 'loading' }, t('site.checking')));
  if (fly) view.map.jumpTo({ center: [site.lon, site.lat], zoom: Math.max(view.map.getZoom(), 9) });
  writeUrl();
  try {
    const lookup = await getJSON(url('/api/lookup', { lon: site.lon, lat: site.lat }));
    if (state.site !== site) return;
    state.lookup = lookup;
    renderLookup();
    if (select) selectFromLookup();
  } catch (error) {
    fill(els.lookup, h('p', { class: 'error' }, t('error.load', { message: error.message })));
  }
}

/** Opens the territory containing the checked site: the main edition's, else the compared one's. */
function selectFromLookup() {
  const found =
    state.lookup.territories.find((x) => x.edition === state.edition) ??
    (state.compare ? state.lookup.territories.find((x) => x.edition === state.compare) : undefined);
  if (found) selectTerritory(found.edition, found.id);
  else if (state.selected) closeTerritory();
}

function formatCoordinate(x) {
  return formatNumber(x, 5);
}

function renderLookup() {
  const l = state.lookup;
  const site = state.site;
  if (!l || !site) return;
  const inside = l.territories.find((x) => x.edition === state.edition);
  const nearest = l.nearest.find((x) => x.edition === state.edition);
  const commune = l.units.find((u) => u.kind === 'COM');
  const epci = l.units.find((u) => u.kind === 'EPCI');
  const point = h(
    'p',
    { class: 'coords-line' },
    t('site.point', { lat: formatCoordinate(site.lat), lon: formatCoordinate(site.lon) }),
    site.swapped ? ` ${t('site.swapped')}` : '',
  );
  let verdict;
  if (inside) {
    const open = h('a', { href: territoryLink(inside.edition, inside.id), class: 'territory-link' }, inside.name);
    open.addEventListener('click', (e) => {
      e.preventDefault();
      selectTerritory(inside.edition, inside.id, { fit: true });
    });
    verdict = [
      h('p', { class: 'verdict in' }, `${t('site.in')} `, h('strong', { 'data-testid': 'lookup-territory' }, open), ` (${inside.edition})`),
      h('p', { class: 'via' }, t('site.via', { kind: t(`kind.${inside.via.kind}`), name: inside.via.name, code: inside.via.code })),
    ];
  } else {
    verdict = [
      h('p', { class: 'verdict out' }, t('site.out', { edition: state.edition })),
      nearest
        ? h('p', { 'data-testid': 'lookup-nearest' }, t('site.nearest', { name: nearest.name, distance: formatDistance(nearest.distance_m) }))
        : h('p', {}, t('site.noneEdition', { edition: state.edition })),
    ];
  }
  const units = commune
    ? h('p', { class: 'units' }, t('site.units', { commune: `${commune.name} (${commune.code})`, epci: epci ? epci.name : '—' }))
    : h('p', { class: 'units' }, t('site.nounit'));
  fill(els.lookup, point, verdict, units);
  els.lookup.dataset.edition = state.edition;
  els.lookup.dataset.territory = inside ? inside.id : '';
  els.lookup.classList.toggle('inside', Boolean(inside));
  // The other editions, apart from the main answer (whose element tests read).
  const others = state.editions
    .map((e) => e.id)
    .filter((id) => id !== state.edition)
    .map((id) => {
      const x = l.territories.find((y) => y.edition === id);
      if (x) return h('li', {}, t('site.otherIn', { edition: id, name: x.name }));
      const n = l.nearest.find((y) => y.edition === id);
      return n ? h('li', {}, t('site.otherOut', { edition: id, name: n.name, distance: formatDistance(n.distance_m) })) : null;
    })
    .filter(Boolean);
  els.lookupDetails.hidden = others.length === 0;
  fill(els.lookupDetails, others.length > 0 ? [h('p', { class: 'small-title' }, t('site.others')), h('ul', { class: 'plain' }, others)] : []);
}

// ---- hover label ----

let hoverFeature = null;
let hoverFrame = 0;

function setHover(feature) {
  if (hoverFeature && (!feature || feature.id !== hoverFeature.id || feature.source !== hoverFeature.source)) {
    view.map.setFeatureState(hoverFeature, { hover: false });
    hoverFeature = null;
  }
  if (feature && feature.source === 'ti-main') {
    hoverFeature = { source: feature.source, sourceLayer: feature.sourceLayer, id: feature.id };
    view.map.setFeatureState(hoverFeature, { hover: true });
  }
}

function onPointerMove(e) {
  cancelAnimationFrame(hoverFrame);
  hoverFrame = requestAnimationFrame(() => {
    const features = view.territoriesAt(e.point);
    const seen = new Set();
    const lines = [];
    for (const f of features) {
      const key = `${f.source}/${f.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      lines.push(state.compare ? `${f.properties.edition} : ${f.properties.name}` : f.properties.name);
    }
    setHover(features.find((f) => f.source === 'ti-main'));
    view.map.getCanvas().style.cursor = lines.length > 0 ? 'pointer' : '';
    if (lines.length === 0) {
      els.hover.hidden = true;
      return;
    }
    els.hover.textContent = lines.join('\n');
    els.hover.hidden = false;
    els.hover.style.transform = `translate(${Math.round(e.point.x + 14)}px, ${Math.round(e.point.y + 14)}px)`;
  });
}

function onPointerLeave() {
  cancelAnimationFrame(hoverFrame);
  els.hover.hidden = true;
  setHover(null);
}

// ---- print ----

async function printMap() {
  document.body.classList.add('printing');
  view.map.resize();
  await new Promise((resolve) => view.map.once('idle', resolve));
  window.print();
}

// ---- start ----

const initial = readUrl();
setLanguage(initial.lang ?? localStorage.getItem('territoires.lang') ?? 'fr');
applyStatic();
els.lang.textContent = t('langShort');
els.lang.setAttribute('aria-label', t('lang'));

const view = new MapView(byId('map'), {
  view: initial.view,
  attribution: 'ANCT · IGN · INSEE — Licence Ouverte 2.0',
  locale: mapLocale(),
  onError: (message) => say(t('error.map', { message })),
});

const search = new Search(byId('search'), byId('search-list'), {
  edition: () => state.edition,
  onChoose: (item) => {
    if (item.kind === 'territory') {
      const edition = item.edition ?? state.edition;
      if (edition !== state.edition && edition !== state.compare) {
        setEdition(edition);
      }
      selectTerritory(edition, item.code, { fit: true });
    } else {
      closeTerritory();
      showUnit(item.code, { fit: true });
    }
  },
});

const batch = new Batch({
  edition: () => state.edition,
  onSites: (collection, fresh) => {
    view.setBatch(collection);
    view.map.resize();
    if (fresh && collection.features.length > 0) view.fitBbox(sitesFrame(collection.features), { maxZoom: 12 });
  },
  onShow: (site) => {
    if (!Number.isFinite(site.lon) || !Number.isFinite(site.lat)) return;
    view.map.flyTo({ center: [site.lon, site.lat], zoom: Math.max(view.map.getZoom(), 11) });
    checkSite({ lon: site.lon, lat: site.lat });
  },
});

/**
 * The box to show a file's sites in: those of the part of France (metropole or one overseas
 * département) holding most of them, so one site in Guadeloupe does not zoom the map out to the Atlantic.
 */
function sitesFrame(features) {
  const points = features.map((f) => f.geometry.coordinates);
  const areaOf = ([lon, lat]) =>
    Object.entries(AREAS).find(([, [w, s, e, n]]) => lon >= w && lon <= e && lat >= s && lat <= n)?.[0] ?? 'elsewhere';
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

async function start() {
  let editions;
  try {
    editions = await getJSON('/api/editions');
  } catch (error) {
    say(t('error.load', { message: error.message }), { sticky: true });
    return;
  }
  await view.ready;
  state.editions = editions;
  if (editions.length === 0) {
    say(t('editions.none'), { sticky: true });
    document.body.dataset.ready = 'true';
    return;
  }
  const ids = editions.map((e) => e.id);
  state.edition = ids.includes(initial.edition) ? initial.edition : defaultEdition(editions);
  state.compare = ids.includes(initial.compare) && initial.compare !== state.edition ? initial.compare : null;
  els.compare.checked = Boolean(state.compare);
  fillEditionSelects();
  if (!state.compare) els.compareEdition.value = olderEdition(state.edition) ?? '';
  view.setEdition(state.edition);
  view.setAttribution(attributionText());
  view.setCompare(state.compare);
  updateExportLink();
  renderRegionLegend();
  renderCompareLegend();

  if (initial.territory) {
    const [edition, id] = initial.territory.includes(':') ? initial.territory.split(':', 2) : [state.edition, initial.territory];
    if (ids.includes(edition)) selectTerritory(edition, id, { fit: !initial.view });
  }
  if (initial.unit) showUnit(initial.unit, { fit: !initial.view && !initial.territory });
  if (initial.lookup) {
    await checkSite(initial.lookup, { select: !initial.territory, fly: !initial.view && !initial.territory });
  }
  wire();
  writeUrl();
  document.body.dataset.ready = 'true';
}

function wire() {
  const map = view.map;
  map.on('mousemove', onPointerMove);
  map.getCanvas().addEventListener('mouseleave', onPointerLeave);
  map.on('click', (e) => checkSite({ lon: e.lngLat.lng, lat: e.lngLat.lat }));
  map.on('moveend', writeUrl);
  window.addEventListener('hashchange', () => {
    const v = parseHash(location.hash);
    if (v) map.jumpTo({ center: [v.lon, v.lat], zoom: v.zoom });
  });

  els.edition.addEventListener('change', () => setEdition(els.edition.value));
  els.compare.addEventListener('change', () =>
    setCompare(els.compare.checked ? els.compareEdition.value || olderEdition(state.edition) : null),
  );
  els.compareEdition.addEventListener('change', () => {
    if (els.compare.checked) setCompare(els.compareEdition.value);
  });

  for (const button of document.querySelectorAll('.insets button[data-area]')) {
    button.addEventListener('click', () => view.goToArea(button.dataset.area));
  }

  byId('site-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const parsed = parseCoordinates(els.coords.value);
    if (parsed.error) {
      els.lookup.hidden = false;
      fill(els.lookup, h('p', { class: 'error', role: 'alert' }, t(parsed.error)));
      return;
    }
    checkSite(parsed, { fly: true });
  });
  byId('check-centre').addEventListener('click', () => {
    const c = map.getCenter();
    checkSite({ lon: c.lng, lat: c.lat });
  });

  const toggles = { territories: 'toggle-territories', epci: 'toggle-epci', ept: 'toggle-ept', sites: 'toggle-sites' };
  for (const [group, id] of Object.entries(toggles)) {
    const box = byId(id);
    box.addEventListener('change', () => view.setGroupVisible(group, box.checked));
  }
  const osm = byId('toggle-osm');
  osm.addEventListener('change', async () => {
    localStorage.setItem('territoires.osm', osm.checked ? 'on' : 'off');
    if (!osm.checked) {
      view.setBaseMap(false);
      return;
    }
    say(t('osm.loading'));
    const ok = await view.setBaseMap(true);
    if (ok) say('');
    else if (osm.checked) {
      osm.checked = false;
      say(t('osm.failed'));
    }
  });
  // The base map is only requested once the person has asked for it (it calls a third party).
  if (localStorage.getItem('territoires.osm') === 'on') {
    osm.checked = true;
    osm.dispatchEvent(new Event('change'));
  }

  byId('copy-link').addEventListener('click', async () => {
    const link = location.href;
    try {
      await navigator.clipboard.writeText(link);
      fill(els.shareNote, t('share.copied'));
    } catch {
      fill(els.shareNote, `${t('share.manual')} `, h('code', {}, link));
    }
  });
  byId('print').addEventListener('click', printMap);
  // Printing from the browser's menu: redraw the map at its print size (best effort, the browser may
  // snapshot before the next frame; the Imprimer button waits for it).
  window.addEventListener('beforeprint', () => map.resize());
  window.addEventListener('afterprint', () => {
    document.body.classList.remove('printing');
    map.resize();
  });

  els.lang.addEventListener('click', () => {
    setLanguage(language() === 'fr' ? 'en' : 'fr');
    localStorage.setItem('territoires.lang', language());
    applyStatic();
    els.lang.textContent = t('langShort');
    els.lang.setAttribute('aria-label', t('lang'));
    fillEditionSelects();
    renderRegionLegend();
    renderCompareLegend();
    renderLookup();
    if (state.territory) renderTerritory(state.territory);
    if (state.unit) showUnit(state.unit);
    batch.render();
    writeUrl();
  });
}

// Handles for the browser tests and for anyone debugging from the console.
window.territoires = { map: view.map, state };
start();
