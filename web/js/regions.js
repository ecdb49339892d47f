// Regions (INSEE COG 2024 codes, as the API's `region` field) with a name and a fill colour. The
// territories are coloured by region: neighbouring territories of one region share a colour and are told
// apart by their outlines, and the legend stays short and meaningful. Regions whose territories touch
// get colours that stay apart for colour-blind visitors too (deuteranomaly, protanomaly, tritanomaly),
// and every fill stands out from the land and under the dark outline: tests/reference/test_palette.py.

import REGIONS from './regions.json' with { type: 'json' };

export { REGIONS };

/** Colour of a territory whose region is unknown to this table. */
export const OTHER_COLOR = '#a0a0a0';

export function regionName(code) {
  return REGIONS[code]?.name ?? code ?? '';
}

/** MapLibre expression: the fill colour from the feature's `region` property. */
export function regionColorExpression() {
  const pairs = Object.entries(REGIONS).flatMap(([code, r]) => [code, r.color]);
  return ['match', ['to-string', ['get', 'region']], ...pairs, OTHER_COLOR];
}
