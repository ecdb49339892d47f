// The page's state in its URL (web/js/url-state.js) without a browser: what a shared link reads as,
// what the page writes, and that writing then reading gives the same state back.
//
//   node --test url-state.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseUrl,
  parseHash,
  parseLookup,
  parseTerritory,
  queryString,
  viewHash,
  territoryLink,
  unitLink,
} from '../../web/js/url-state.js';
import { defaultEdition, olderEdition, editionLabel, attributionText } from '../../web/js/editions.js';
import { mainAreaBox } from '../../web/js/coords.js';

test('a full shared link reads back as its parts', () => {
  const url = parseUrl('?edition=2019&compare=2023&territory=2023:ti-3214&unit=200071942&lookup=3.5,50.3&lang=en', '#8.50/50.30000/3.40000');
  assert.deepEqual(url, {
    edition: '2019',
    compare: '2023',
    territory: '2023:ti-3214',
    unit: '200071942',
    lookup: { lon: 3.5, lat: 50.3 },
    lang: 'en',
    view: { zoom: 8.5, lat: 50.3, lon: 3.4 },
  });
  assert.deepEqual(parseUrl('', ''), { edition: null, compare: null, territory: null, unit: null, lookup: null, lang: null, view: null });
});

test('malformed positions read as none, never as a wrong place', () => {
  for (const bad of ['3.5', 'a,b', '200,10', '3,95', '', ',', '3,', ',49']) assert.equal(parseLookup(bad), null, bad);
  assert.deepEqual(parseLookup('-5,48.4'), { lon: -5, lat: 48.4 });
  for (const bad of ['', '#', '#6/47', '#x/47/2', '#6/95/2', '#6/47/190', '#25/47/2', '#-1/47/2']) {
    assert.equal(parseHash(bad), null, bad);
  }
  assert.deepEqual(parseHash('#6.00/47.00000/2.00000'), { zoom: 6, lat: 47, lon: 2 });
});

test('territory: an id of the main edition, or EDITION:ID of another', () => {
  assert.deepEqual(parseTerritory('ti-3214', '2023'), { edition: '2023', id: 'ti-3214' });
  assert.deepEqual(parseTerritory('2019:ti-1', '2023'), { edition: '2019', id: 'ti-1' });
});

test('the query the page writes: fixed order, readable , and :, French left out', () => {
  const state = {
    edition: '2019',
    compare: '2023',
    selected: { edition: '2023', id: 'ti-3214' },
    unit: '200071942',
    site: { lon: 3.3281814999, lat: 49.38357449 },
  };
  assert.equal(queryString(state, 'fr'), 'edition=2019&compare=2023&territory=2023:ti-3214&unit=200071942&lookup=3.328181,49.383574');
  assert.equal(queryString(state, 'en').split('&').at(-1), 'lang=en');
  assert.equal(queryString({ edition: '2023', selected: { edition: '2023', id: 'ti-3214' } }), 'edition=2023&territory=ti-3214');
  assert.equal(queryString({}), '');
  // Values that need escaping are escaped (a code typed in the search could hold anything).
  assert.equal(queryString({ unit: 'a&b=c d' }), 'unit=a%26b%3Dc%20d');
  assert.equal(viewHash({ zoom: 6, lat: 47, lon: 2 }), '#6.00/47.00000/2.00000');
  assert.equal(viewHash({ zoom: 8.456, lat: -21.123456, lon: 55.5 }), '#8.46/-21.12346/55.50000');
});

test('written then read: the same state', () => {
  const state = { edition: '2023', compare: '2019', selected: { edition: '2019', id: 'ti-9303' }, unit: null, site: { lon: -5, lat: 48.4 } };
  const read = parseUrl(`?${queryString(state, 'en')}`, viewHash({ zoom: 7, lat: 48.4, lon: -5 }));
  assert.equal(read.edition, state.edition);
  assert.equal(read.compare, state.compare);
  assert.deepEqual(parseTerritory(read.territory, read.edition), state.selected);
  assert.deepEqual(read.lookup, state.site);
  assert.equal(read.lang, 'en');
  assert.deepEqual(read.view, { zoom: 7, lat: 48.4, lon: -5 });
});

test('links to a territory and to a unit', () => {
  assert.equal(territoryLink('2023', 'ti-3214', '2023'), '?edition=2023&territory=ti-3214');
  assert.equal(territoryLink('2019', 'ti-1', '2023'), '?edition=2023&territory=2019:ti-1');
  assert.equal(territoryLink('2019', 'ti-1', null), '?edition=2019&territory=2019:ti-1');
  assert.equal(unitLink('02722'), '?unit=02722');
});

test('editions: the latest year by default, the previous one to compare, labels per language', () => {
  const editions = [
    { id: '2019', meta: { label: { fr: 'Phase I', en: 'Phase I (en)' } } },
    { id: '2023', meta: { label: { fr: 'Phase II' }, attribution: 'ANCT', licence: { name: 'Licence Ouverte 2.0' } } },
    { id: 'essai' },
  ];
  assert.equal(defaultEdition(editions), '2023');
  assert.equal(defaultEdition([{ id: 'b' }, { id: 'a' }]), 'b', "no years: the server's first");
  assert.equal(olderEdition(editions, '2023'), '2019');
  assert.equal(olderEdition(editions, '2019'), '2023', 'no older year: another edition');
  assert.equal(olderEdition([{ id: '2023' }], '2023'), null);
  assert.equal(editionLabel(editions[0], 'en'), 'Phase I (en)');
  assert.equal(editionLabel(editions[1], 'en'), 'Phase II', 'French when there is no English label');
  assert.equal(editionLabel(editions[2], 'fr'), 'essai');
  assert.equal(attributionText(editions[1]), 'ANCT (Licence Ouverte 2.0) · IGN · INSEE — Licence Ouverte 2.0');
  assert.equal(attributionText(undefined), 'ANCT · IGN · INSEE — Licence Ouverte 2.0');
});

test('a file of sites is framed on the part of France holding most of them', () => {
  const points = [
    [3.33, 49.38],
    [2.35, 48.85],
    [-61.5, 16.2], // Guadeloupe: left out of the frame
  ];
  assert.deepEqual(mainAreaBox(points), [2.35, 48.85, 3.33, 49.38]);
  assert.deepEqual(mainAreaBox([[-61.5, 16.2]]), [-61.5, 16.2, -61.5, 16.2]);
});
