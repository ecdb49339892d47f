// Regions (INSEE COG 2024 codes, as the API's `region` field) with a name and a fill colour. The
// territories are coloured by region: neighbouring territories of one region share a colour and are told
// apart by their outlines, and the legend stays short and meaningful. Neighbouring regions get hues
// that do not look alike (Centre-Val de Loire and Nouvelle-Aquitaine, Bretagne and Normandie).

export const REGIONS = {
  '01': { name: 'Guadeloupe', color: '#e377c2' },
  '02': { name: 'Martinique', color: '#c5b0d5' },
  '03': { name: 'Guyane', color: '#8fbf5a' },
  '04': { name: 'La Réunion', color: '#f7b6d2' },
  '06': { name: 'Mayotte', color: '#9edae5' },
  11: { name: 'Île-de-France', color: '#9467bd' },
  24: { name: 'Centre-Val de Loire', color: '#a3a13b' },
  27: { name: 'Bourgogne-Franche-Comté', color: '#d6616b' },
  28: { name: 'Normandie', color: '#4c9ed9' },
  32: { name: 'Hauts-de-France', color: '#f28e2b' },
  44: { name: 'Grand Est', color: '#59a14f' },
  52: { name: 'Pays de la Loire', color: '#76b7b2' },
  53: { name: 'Bretagne', color: '#1f5f99' },
  75: { name: 'Nouvelle-Aquitaine', color: '#edc948' },
  76: { name: 'Occitanie', color: '#e15759' },
  84: { name: 'Auvergne-Rhône-Alpes', color: '#2ca089' },
  93: { name: "Provence-Alpes-Côte d'Azur", color: '#b07aa1' },
  94: { name: 'Corse', color: '#9c755f' },
};

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
