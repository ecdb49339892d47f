// Addresses of the server's pages (territory, EPCI/EPT, commune) in the page's language, as
// src/render/pages.rs serves them. The static site (`export --format site`) has no such pages: null there.

import { STATIC } from './static-source.js';

const seg = (s) => encodeURIComponent(s);

/** `/territoires/2023/ti-3214` (French) or `/en/territories/2023/ti-3214`; null on the static site. */
export function territoryPagePath(edition, id, lang) {
  if (STATIC) return null;
  return `${lang === 'en' ? '/en/territories' : '/territoires'}/${seg(edition)}/${seg(id)}`;
}

/** `/communes/02722`, `/intercommunalites/240200477` or their `/en/` twins; null on the static site. */
export function unitPagePath(kind, code, lang) {
  if (STATIC) return null;
  const base =
    kind === 'COM' ? (lang === 'en' ? '/en/communes' : '/communes') : lang === 'en' ? '/en/intercommunalities' : '/intercommunalites';
  return `${base}/${seg(code)}`;
}
