// Node unit tests of the static site's own code: the MVT decoder and point-in-polygon test (web/js/mvt.js)
// on a tile encoded here by the MVT 2.1 rules, and the browser search's folding and ordering
// (web/js/static-source.js), which must agree with src/text.rs and src/atlas/search.rs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTile, ringsContain, tileOf } from '../../web/js/mvt.js';
import { fold, searchEntries } from '../../web/js/static-source.js';

const varint = (n) => {
  const out = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
const zz = (n) => (n < 0 ? -2 * n - 1 : 2 * n);
const field = (number, wire) => varint(number * 8 + wire);
const bytes = (number, payload) => [...field(number, 2), ...varint(payload.length), ...payload];
const text = (number, s) => bytes(number, [...new TextEncoder().encode(s)]);

/** A polygon with a hole: the square 0..100 minus 40..60, as MVT commands. */
function squareWithHole() {
  const ring = (pts, from) => {
    const cmds = [];
    let [cx, cy] = from;
    pts.forEach(([x, y], i) => {
      if (i === 0) cmds.push(1 | (1 << 3));
      if (i === 1) cmds.push(2 | ((pts.length - 1) << 3));
      cmds.push(zz(x - cx), zz(y - cy));
      [cx, cy] = [x, y];
    });
    cmds.push(7 | (1 << 3));
    return { cmds, end: [cx, cy] };
  };
  const outer = ring([[0, 0], [100, 0], [100, 100], [0, 100]], [0, 0]);
  const hole = ring([[40, 40], [40, 60], [60, 60], [60, 40]], outer.end);
  const geometry = [...outer.cmds, ...hole.cmds].flatMap(varint);
  const feature = [...field(1, 0), ...varint(7), ...bytes(2, [0, 0, 1, 1].flatMap(varint)), ...field(3, 0), 3, ...bytes(4, geometry)];
  const layer = [
    ...field(15, 0), 2,
    ...text(1, 'territories-2023'),
    ...bytes(2, feature),
    ...text(3, 'id'), ...text(3, 'name'),
    ...bytes(4, text(1, 'ti-1')), ...bytes(4, text(1, 'Île-de-Test')),
    ...field(5, 0), ...varint(4096),
  ];
  return new Uint8Array(bytes(3, layer));
}

test('the MVT decoder reads layers, properties and rings; holes are outside', () => {
  const layers = decodeTile(squareWithHole());
  const layer = layers.get('territories-2023');
  assert.equal(layer.extent, 4096);
  assert.equal(layer.features.length, 1);
  const [f] = layer.features;
  assert.equal(f.id, 7);
  assert.equal(f.type, 3);
  assert.deepEqual(f.properties, { id: 'ti-1', name: 'Île-de-Test' });
  assert.deepEqual(f.rings[1], [[40, 40], [40, 60], [60, 60], [60, 40]]);
  assert.equal(ringsContain(f.rings, [10, 10]), true);
  assert.equal(ringsContain(f.rings, [50, 50]), false, 'in the hole');
  assert.equal(ringsContain(f.rings, [150, 50]), false);
  assert.throws(() => decodeTile(new Uint8Array([0x1a, 0x05, 0x0a])), /truncated/);
});

test('tileOf finds the zoom-12 tile of Soissons and the point inside it', () => {
  const { x, y, fx, fy } = tileOf(12, 3.3236, 49.3817);
  // Independently: x = (lon + 180) / 360 · 2^12, y = (1 - asinh(tan φ) / π) / 2 · 2^12 (Python's math).
  assert.deepEqual([x, y], [2085, 1400]);
  assert.ok(Math.abs(fx - 0.815182) < 1e-5 && Math.abs(fy - 0.011758) < 1e-5, `${fx}, ${fy}`);
});

test('search folding and order follow the server', () => {
  assert.equal(fold('  Saint-Omer  '), 'saint omer');
  assert.equal(fold('Châtellerault'), 'chatellerault');
  assert.equal(fold("L'Haÿ-les-Roses"), 'l hay les roses');
  assert.equal(fold('Œuilly'), 'oeuilly');
  const entry = (name, rank, weight, edition) => {
    const folded = fold(name);
    return { text: `${folded} x${rank}`, name_len: folded.length, rank, weight, hit: { kind: rank === 0 ? 'territory' : 'COM', name, edition } };
  };
  const entries = [
    entry('Saint-Omer-Capelle', 3, 10), entry('Saint-Omer', 3, 5), entry('Pays de Saint-Omer', 0, 0, '2023'),
    entry('Saint-Omer', 0, 0, '2019'), entry('Omerville', 3, 1000),
  ];
  const names = searchEntries(entries, 'saint omer', null, 10).map((h) => `${h.name}/${h.kind}`);
  assert.deepEqual(names, ['Saint-Omer/territory', 'Saint-Omer/COM', 'Saint-Omer-Capelle/COM', 'Pays de Saint-Omer/territory']);
  assert.deepEqual(searchEntries(entries, 'saint omer', '2023', 10).map((h) => h.name), ['Saint-Omer', 'Saint-Omer-Capelle', 'Pays de Saint-Omer']);
  assert.deepEqual(searchEntries(entries, '  ', null, 10), []);
  assert.equal(searchEntries(entries, 'omer', null, 2).length, 2);
});
