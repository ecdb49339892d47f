// The map style (web/js/style.js) without a browser: valid for MapLibre's style specification, layers
// in drawing order, and each change of the page's state reaching MapLibre as the small diff it should.
//
//   node --test style.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateStyleMin, diff } from '@maplibre/maplibre-gl-style-spec';
import { mapStyle, hatchImage, COLORS, FONT, GROUPS, HATCH, OSM_TILES, PLACE_SORT_KEY } from '../../web/js/style.js';
import { expression } from '@maplibre/maplibre-gl-style-spec';
import { REGIONS } from '../../web/js/regions.js';

const origin = 'http://127.0.0.1:8080';
const ids = (style) => style.layers.map((l) => l.id);
const layer = (style, id) => style.layers.find((l) => l.id === id);
const commands = (before, after) => diff(before, after).map((c) => c.command);

function valid(style) {
  // The in-memory hatch pattern is not a sprite the validator can know of: any image name is fine.
  assert.deepEqual(validateStyleMin(style), [], JSON.stringify(validateStyleMin(style)));
}

test('before the editions are known: the base layers only, valid', () => {
  const style = mapStyle({ origin });
  valid(style);
  assert.deepEqual(ids(style), [
    'background',
    'land',
    'commune-line',
    'epci-line',
    'ept-line',
    'unit-selected',
    'place-label',
    'batch-points',
    'site-point',
  ]);
  assert.equal(layer(style, 'background').paint['background-color'], COLORS.sea);
  assert.deepEqual(style.sources.epci.tiles, [`${origin}/tiles/epci/{z}/{x}/{y}.mvt`]);
  assert.deepEqual(style.sources.site.data.features, []);
});

test('one edition: its tiles, coloured by region, outlined above the EPCI lines', () => {
  const style = mapStyle({ origin, edition: '2023' });
  valid(style);
  assert.deepEqual(style.sources['ti-main'].tiles, [`${origin}/tiles/territories-2023/{z}/{x}/{y}.mvt`]);
  assert.equal(style.sources['ti-main'].promoteId, 'id');
  const fill = layer(style, 'ti-main-fill');
  assert.equal(fill['source-layer'], 'territories-2023');
  // ['match', ['to-string', ['get', 'region']], code, colour, ..., fallback]: every region has its colour.
  const match = fill.paint['fill-color'];
  assert.equal(match[0], 'match');
  for (const [code, r] of Object.entries(REGIONS)) assert.equal(match[match.indexOf(code) + 1], r.color, code);
  const order = ids(style);
  assert.ok(order.indexOf('land') < order.indexOf('ti-main-fill'));
  assert.ok(order.indexOf('ti-main-fill') < order.indexOf('epci-line'));
  assert.ok(order.indexOf('epci-line') < order.indexOf('ti-main-line'));
  assert.ok(order.indexOf('ti-main-line') < order.indexOf('ti-selected'));
  assert.ok(order.indexOf('ti-selected') < order.indexOf('site-point'), 'the site marker on top');
  assert.deepEqual(layer(style, 'ti-selected').filter, ['==', ['get', 'id'], ''], 'nothing selected');
});

test('comparing: the main edition in blue, the other hatched over it, both outlined', () => {
  const style = mapStyle({ origin, edition: '2023', compare: '2019' });
  valid(style);
  assert.equal(layer(style, 'ti-main-fill').paint['fill-color'], COLORS.current);
  assert.equal(layer(style, 'ti-compare-fill').paint['fill-pattern'], HATCH);
  assert.equal(layer(style, 'ti-compare-fill')['source-layer'], 'territories-2019');
  const order = ids(style);
  for (const [a, b] of [
    ['ti-main-fill', 'ti-compare-fill'],
    ['ti-compare-fill', 'epci-line'],
    ['unit-selected', 'ti-compare-line'],
    ['ti-compare-line', 'ti-main-line'],
  ]) {
    assert.ok(order.indexOf(a) < order.indexOf(b), `${a} under ${b}: ${order}`);
  }
});

test('the selected territory is outlined from the edition it belongs to', () => {
  const main = mapStyle({ origin, edition: '2023', compare: '2019', selected: { edition: '2023', id: 'ti-3214' } });
  assert.equal(layer(main, 'ti-selected').source, 'ti-main');
  assert.deepEqual(layer(main, 'ti-selected').filter, ['==', ['get', 'id'], 'ti-3214']);
  const compared = mapStyle({ origin, edition: '2023', compare: '2019', selected: { edition: '2019', id: 'ti-1' } });
  assert.equal(layer(compared, 'ti-selected').source, 'ti-compare');
  assert.equal(layer(compared, 'ti-selected')['source-layer'], 'territories-2019');
  assert.deepEqual(layer(compared, 'ti-selected').filter, ['==', ['get', 'id'], 'ti-1']);
  // A territory of an edition that is not drawn: nothing outlined (its id may exist in the other one).
  const neither = mapStyle({ origin, edition: '2023', selected: { edition: '2019', id: 'ti-1' } });
  assert.deepEqual(layer(neither, 'ti-selected').filter, ['==', ['get', 'id'], '']);
});

test('hidden groups hide exactly their layers', () => {
  const style = mapStyle({ origin, edition: '2023', compare: '2019', hidden: new Set(['territories', 'sites']) });
  valid(style);
  const off = style.layers.filter((l) => l.layout?.visibility === 'none').map((l) => l.id).sort();
  assert.deepEqual(off, [...GROUPS.territories, ...GROUPS.sites].sort());
});

test("commune names: the server's glyphs and places tiles, above the outlines, under the sites", () => {
  const style = mapStyle({ origin, edition: '2023', compare: '2019', selected: { edition: '2023', id: 'ti-3214' } });
  valid(style);
  assert.equal(style.glyphs, `${origin}/fonts/{fontstack}/{range}.pbf`);
  assert.deepEqual(style.sources.places.tiles, [`${origin}/tiles/places/{z}/{x}/{y}.mvt`]);
  const label = layer(style, 'place-label');
  assert.equal(label.type, 'symbol');
  assert.equal(label['source-layer'], 'places');
  assert.deepEqual(label.layout['text-font'], [FONT]);
  assert.deepEqual(label.layout['text-field'], ['get', 'name']);
  assert.ok(label.paint['text-halo-width'] > 0, 'a halo keeps names readable over any colour');
  assert.equal(layer(style, 'commune-line')['source-layer'], 'communes');
  assert.equal(layer(style, 'commune-line').minzoom, 10);
  const order = ids(style);
  for (const other of ['ti-main-fill', 'ti-compare-fill', 'ti-main-line', 'ti-selected', 'epci-line', 'ept-line']) {
    assert.ok(order.indexOf(other) < order.indexOf('place-label'), `${other} under the names`);
  }
  for (const site of ['batch-points', 'site-point']) assert.ok(order.indexOf('place-label') < order.indexOf(site), `${site} over the names`);
  assert.ok(order.indexOf('ti-main-fill') < order.indexOf('commune-line') && order.indexOf('commune-line') < order.indexOf('epci-line'));
  // Collision priority, evaluated by MapLibre's own expression engine: capital, prefecture, then by population.
  const index = style.layers.indexOf(label);
  const key = expression.createExpression(PLACE_SORT_KEY, `layers[${index}].layout.symbol-sort-key`);
  assert.equal(key.result, 'success');
  const at = (rank, population) => key.value.evaluate({ zoom: 8 }, { properties: { rank, population } });
  assert.ok(at(0, 150_000) < at(1, 40_000), 'a regional capital before a prefecture');
  assert.ok(at(1, 8_000) < at(2, 2_100_000), 'a prefecture before any other town');
  assert.ok(at(2, 30_000) < at(2, 2_000), 'the larger town first');
});

test('the static site has no places tiles or glyphs: no labels, no font request', () => {
  const style = mapStyle({ origin, edition: '2023', archive: 'http://127.0.0.1:8080/tiles.pmtiles' });
  valid(style);
  assert.equal(style.glyphs, undefined);
  assert.equal(style.sources.places, undefined);
  assert.ok(!ids(style).includes('place-label') && !ids(style).includes('commune-line'));
});

test('the OpenStreetMap base goes over the sea and replaces the land', () => {
  const style = mapStyle({ origin, edition: '2023', osm: true });
  valid(style);
  assert.deepEqual(style.sources.osm.tiles, [OSM_TILES]);
  assert.equal(ids(style)[1], 'osm');
  assert.equal(layer(style, 'land').layout.visibility, 'none');
  assert.equal(layer(mapStyle({ origin, edition: '2023' }), 'land').layout.visibility, 'visible');
});

test('the checked site and the file of sites are the GeoJSON sources', () => {
  const batch = { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { row: 0, status: 'in' }, geometry: { type: 'Point', coordinates: [3.3, 49.4] } }] };
  const style = mapStyle({ origin, site: { lon: 3.328181, lat: 49.383574 }, batch });
  valid(style);
  assert.deepEqual(style.sources.site.data.geometry.coordinates, [3.328181, 49.383574]);
  assert.equal(style.sources.batch.data, batch);
});

test('each change reaches MapLibre as a small diff, never a rebuilt map', () => {
  const base = { origin, edition: '2023' };
  const before = mapStyle(base);
  // Selecting a territory or a unit: filters only.
  assert.deepEqual(commands(before, mapStyle({ ...base, selected: { edition: '2023', id: 'ti-3214' } })), ['setFilter']);
  assert.deepEqual(commands(before, mapStyle({ ...base, unit: '200071942' })), ['setFilter']);
  // Hiding a group: its layers' visibility only.
  assert.deepEqual(new Set(commands(before, mapStyle({ ...base, hidden: ['epci'] }))), new Set(['setLayoutProperty']));
  // A site: its source's data only.
  assert.deepEqual(commands(before, mapStyle({ ...base, site: { lon: 3, lat: 49 } })), ['setGeoJSONSourceData']);
  // Another edition: its source and layers replaced, the EPCI and site layers untouched.
  const other = diff(before, mapStyle({ ...base, edition: '2019' }));
  const touched = new Set(other.map((c) => c.args[0]?.id ?? c.args[0]));
  for (const id of ['epci', 'epci-line', 'land', 'site', 'site-point']) assert.ok(!touched.has(id), `${id} untouched`);
  assert.ok(other.some((c) => c.command === 'addSource' && c.args[0] === 'ti-main'));
  // The same inputs: nothing to do.
  assert.deepEqual(diff(before, mapStyle(base)), []);
});

test('the hatch pattern: diagonal lines of the given colour, transparent between them', () => {
  const { width, height, data } = hatchImage(10, COLORS.hatch);
  assert.equal(width, 10);
  assert.equal(height, 10);
  assert.equal(data.length, 400);
  const alpha = (x, y) => data[4 * (y * 10 + x) + 3];
  assert.equal(alpha(0, 0), 230, 'on the diagonal x + y = 0 (mod 10)');
  assert.equal(alpha(5, 5), 230, 'on the diagonal x + y = 10');
  assert.equal(alpha(2, 0), 0, 'between lines');
  assert.deepEqual([...data.subarray(0, 3)], COLORS.hatch);
});
