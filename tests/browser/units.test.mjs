// The page's pure logic, without a browser: reading typed coordinates and CSV files.
//
//   node --test units.test.mjs style.test.mjs url-state.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCoordinates, inFrance } from '../../web/js/coords.js';
import { decode, sniffDelimiter, parseCsv, findColumn, parseNumber, withBom, coordinateNames } from '../../web/js/csv.js';

// The shape GET /api/lookup/columns answers (src/tabular/columns.rs; the browser test reads the real one).
const { lon: LON_NAMES, lat: LAT_NAMES } = coordinateNames({
  columns: [
    { role: 'longitude', names: ['lon', 'longitude'] },
    { role: 'latitude', names: ['lat', 'latitude'] },
    { role: 'x', names: ['x'] },
    { role: 'y', names: ['y'] },
  ],
});

test('coordinates in either order: France decides, then the ranges, then latitude first', () => {
  const cases = [
    ['3.328181, 49.383574', 3.328181, 49.383574, false],
    ['49.383574, 3.328181', 3.328181, 49.383574, true],
    ['49,38 ; 3,33', 3.33, 49.38, true],
    ['3.33 49.38', 3.33, 49.38, false],
    ['49.38N 3.33E', 3.33, 49.38, true],
    ['N 48.1 O 1.6', -1.6, 48.1, true],
    ['-61.732264, 15.997182', -61.732264, 15.997182, false],
    ['15.997182 -61.732264', -61.732264, 15.997182, true],
    ['-21.1, 55.45', 55.45, -21.1, true],
    ['3,328181,49,383574', 3.328181, 49.383574, false],
    // Neither order is in France, both are valid: read as latitude, longitude.
    ['40.7, -74.0', -74.0, 40.7, true],
    // Only one order fits the ranges.
    ['120.5, 30.2', 120.5, 30.2, false],
  ];
  for (const [text, lon, lat, swapped] of cases) {
    assert.deepEqual(parseCoordinates(text), { lon, lat, swapped }, text);
  }
});

test('coordinates that cannot be read say why', () => {
  assert.deepEqual(parseCoordinates('49.38'), { error: 'coords.count' });
  assert.deepEqual(parseCoordinates('1 2 3'), { error: 'coords.count' });
  assert.deepEqual(parseCoordinates(''), { error: 'coords.count' });
  assert.deepEqual(parseCoordinates('200, 100'), { error: 'coords.range' });
  assert.ok(inFrance(3.33, 49.38) && inFrance(55.45, -21.1) && !inFrance(49.38, 3.33));
});

test('CSV: separators sniffed like the server, quotes, CRLF, columns by name', () => {
  assert.equal(sniffDelimiter('name;lon;lat\n1;2;3'), ';');
  assert.equal(sniffDelimiter('name\tlon\tlat\n'), '\t');
  assert.equal(sniffDelimiter('name,lon,lat'), ',');
  assert.equal(sniffDelimiter('lon;lat,x\n'), ',', 'ties go to the comma');
  const rows = parseCsv('name,lon,lat\r\n"Manche (sea, off ""Boulogne"")",1.3,50.75\r\nLaon,3.62,49.56\n', ',');
  assert.deepEqual(rows, [
    ['name', 'lon', 'lat'],
    ['Manche (sea, off "Boulogne")', '1.3', '50.75'],
    ['Laon', '3.62', '49.56'],
  ]);
  assert.deepEqual(parseCsv('a;b\n1;"x\ny"', ';'), [['a', 'b'], ['1', 'x\ny']], 'a newline inside quotes');
  assert.equal(findColumn(['\uFEFFId', ' Longitude ', 'LAT'], LON_NAMES), 1);
  assert.equal(findColumn(['id', 'Longitude', 'LAT'], LAT_NAMES), 2);
  assert.equal(findColumn(['id', 'where'], LAT_NAMES), -1);
  assert.equal(findColumn(['id', 'x', 'y'], LON_NAMES), 1, 'x/y after the WGS84 names');
  assert.equal(sniffDelimiter('id|x|y'), '|');
  assert.equal(sniffDelimiter('"a;b;c",x,y'), ',', 'separators inside quotes do not count');
  assert.equal(parseNumber('3,5', ';'), 3.5);
  assert.ok(Number.isNaN(parseNumber('3,5', ',')), 'a comma is not a decimal comma in a comma-separated file');
  assert.ok(Number.isNaN(parseNumber('', ';')));
});

test('files: UTF-8 with or without BOM, else Windows-1252; downloads get one BOM', () => {
  const utf8 = new TextEncoder().encode('\uFEFFnom;lon;lat\nVillers-Cotterêts;3.09;49.25\n');
  assert.deepEqual(decode(utf8), { text: 'nom;lon;lat\nVillers-Cotterêts;3.09;49.25\n', encoding: 'UTF-8' });
  // "Béthune" as a spreadsheet program writes it in Windows-1252: é is the single byte 0xE9.
  const cp1252 = Uint8Array.from([0x42, 0xe9, 0x74, 0x68, 0x75, 0x6e, 0x65]);
  assert.deepEqual(decode(cp1252), { text: 'Béthune', encoding: 'Windows-1252' });
  assert.equal(withBom('a,b'), '\uFEFFa,b');
  assert.equal(withBom('\uFEFFa,b'), '\uFEFFa,b');
});
