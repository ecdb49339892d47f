// One language at a time (issue 18 §4), without a browser: both dictionaries have the same messages,
// coordinates carry their hemisphere's letter in each language, and every API error reads in the page's
// language whatever the server's (English) message says.
//
//   node --test i18n.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';

// setLanguage writes <html lang>: a stand-in document is enough for these pure functions.
globalThis.document = { documentElement: {} };
const { setLanguage, t, messageKeys, formatCoordinate } = await import('../../web/js/i18n.js');
const { errorReason, errorMessage } = await import('../../web/js/panels/common.js');
const { ApiError } = await import('../../web/js/api.js');
const { contextOf } = await import('../../web/js/search.js');

test('French and English have the same messages, with the same placeholders', () => {
  const fr = messageKeys('fr');
  assert.deepEqual([...messageKeys('en')].sort(), [...fr].sort());
  const placeholders = (lang, key) => {
    setLanguage(lang);
    return [...t(key).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  };
  for (const key of fr) assert.deepEqual(placeholders('en', key), placeholders('fr', key), key);
});

test('coordinates: degrees with N/S and E/W (O in French), never a sign', () => {
  const cases = [
    ['fr', -5, 'lon', '5,00000° O'],
    ['en', -5, 'lon', '5.00000° W'],
    ['fr', 3.328181, 'lon', '3,32818° E'],
    ['en', 48.4, 'lat', '48.40000° N'],
    ['fr', -21.1, 'lat', '21,10000° S'],
    ['en', -21.1, 'lat', '21.10000° S'],
    // Rounds to zero: no west for a point on the meridian.
    ['fr', -0.000001, 'lon', '0,00000° E'],
  ];
  for (const [lang, value, axis, expected] of cases) {
    setLanguage(lang);
    assert.equal(formatCoordinate(value, axis).replace(/\u202f|\u00a0/g, ' '), expected, `${lang} ${value}`);
  }
  setLanguage('en');
  assert.equal(t('site.point', { lat: formatCoordinate(48.4, 'lat'), lon: formatCoordinate(-5, 'lon') }), 'Site: 48.40000° N, 5.00000° W');
});

test("API errors in the page's language: by code and context, else generic; never the server's words", () => {
  const notFound = new ApiError(404, 'not_found', 'no territory "ti-x" in edition 2023');
  setLanguage('fr');
  assert.equal(
    errorMessage(notFound, { what: 'territory', id: 'ti-x', edition: '2023' }),
    "Chargement impossible : aucun territoire « ti-x » dans l'édition 2023.",
  );
  assert.equal(errorReason(notFound, { what: 'unit', code: '99999' }), 'aucune intercommunalité ni commune de code « 99999 ».');
  assert.equal(errorReason(notFound, { what: 'search' }), "le serveur n'a pas trouvé ce qui est demandé.", 'the code alone');
  assert.equal(errorReason(new ApiError(503, 'busy', 'too many batches')), 'le serveur est occupé : réessayez dans un instant.');
  assert.equal(errorReason(new ApiError(502, 'http_502', '502 Bad Gateway')), 'erreur inattendue (statut 502).');
  assert.equal(errorReason(new ApiError(418, 'teapot', 'short and stout')), 'erreur inattendue (statut 418).', 'a code the page does not know');
  assert.equal(errorReason(new TypeError('Failed to fetch')), 'le serveur est injoignable.');
  assert.equal(errorReason(new SyntaxError('JSON')), 'erreur inattendue.');
  setLanguage('en');
  assert.equal(
    errorMessage(notFound, { what: 'territory', id: 'ti-x', edition: '2023' }),
    'Could not load: there is no territory “ti-x” in edition 2023.',
  );
  const tooLarge = new ApiError(413, 'payload_too_large', 'body: more than 1000000 rows; split the file');
  assert.equal(errorReason(tooLarge, { what: 'batch' }), 'it is too large for one upload: split it into several files.');
  assert.equal(errorReason(tooLarge), 'the request is larger than the server accepts.');
});

test('search suggestions: a territory\'s context in the page\'s language, the region kept', () => {
  // As GET /api/search words it (src/search.rs).
  const territory = { kind: 'territory', edition: '2023', context: 'Territoire 2023 · Hauts-de-France' };
  setLanguage('en');
  assert.equal(contextOf(territory), 'edition 2023 · Hauts-de-France');
  setLanguage('fr');
  assert.equal(contextOf(territory), 'édition 2023 · Hauts-de-France');
  assert.equal(contextOf({ kind: 'territory', edition: '2023', context: 'Territoire 2023' }), 'édition 2023');
  assert.equal(contextOf({ kind: 'COM', context: 'Commune (02) · CA GrandSoissons Agglomération' }), 'Commune (02) · CA GrandSoissons Agglomération');
});
