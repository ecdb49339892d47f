// Choosing among the server's editions and naming them: the default and the one to compare with, the
// label and attribution in the page's language. Pure functions of the `/api/editions` answer.

const YEAR = /^\d{4}$/;

/** The latest programme year when editions are named by year; otherwise the server's first. */
export function defaultEdition(editions) {
  const years = editions.map((e) => e.id).filter((id) => YEAR.test(id)).sort();
  return years.length > 0 ? years[years.length - 1] : editions[0]?.id;
}

/** The edition to compare `edition` with: the previous year, else any other edition, else null. */
export function olderEdition(editions, edition) {
  const others = editions.map((e) => e.id).filter((id) => id !== edition);
  const older = others.filter((id) => YEAR.test(id) && id < edition).sort();
  return older.length > 0 ? older[older.length - 1] : (others[0] ?? null);
}

/** The edition's label in `lang` (its id when the server has no metadata for it). */
export function editionLabel(e, lang) {
  const label = e?.meta?.label;
  return (lang === 'en' ? label?.en : label?.fr) || label?.fr || e?.id || '';
}

/** The attribution line: the edition's own text, then the boundaries' sources. */
export function attributionText(e) {
  const list = e?.meta?.attribution ? `${e.meta.attribution} (${e.meta.licence?.name ?? 'Licence Ouverte 2.0'})` : 'ANCT';
  return `${list} · IGN · INSEE — Licence Ouverte 2.0`;
}
