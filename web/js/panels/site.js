// The site panel: the answer of GET /api/lookup for a checked point (in which territory, through which
// member, else the nearest), for the main edition and, apart, the others. It reads and writes the
// store's `site` and `lookup`.

import { getJSON, url } from '../api.js';
import { h, fill } from '../dom.js';
import { t, formatDistance, formatCoordinate } from '../i18n.js';
import { territoryLink } from '../url-state.js';
import { errorMessage } from './common.js';

export class SitePanel {
  /**
   * @param {{result: HTMLElement, details: HTMLElement}} els
   * @param {{store, view, onTerritory: (edition: string, id: string, options: {fit: boolean}) => void,
   *   onNoTerritory: () => void}} options what to do with the territory holding the site (or none)
   */
  constructor({ result, details }, { store, view, onTerritory, onNoTerritory }) {
    this.result = result;
    this.details = details;
    this.store = store;
    this.view = view;
    this.onTerritory = onTerritory;
    this.onNoTerritory = onNoTerritory;
  }

  /** Checks `site` ({lon, lat, swapped?}); `select` opens its territory, `fly` centres the map on it. */
  async check(site, { select = true, fly = false } = {}) {
    this.store.set({ site, lookup: null });
    this.view.setSite(site);
    this.result.hidden = false;
    this.details.hidden = true;
    delete this.result.dataset.edition;
    delete this.result.dataset.territory;
    fill(this.result, h('p', { class: 'loading' }, t('site.checking')));
    if (fly) this.view.map.jumpTo({ center: [site.lon, site.lat], zoom: Math.max(this.view.map.getZoom(), 9) });
    try {
      const lookup = await getJSON(url('/api/lookup', { lon: site.lon, lat: site.lat }));
      if (this.store.get().site !== site) return;
      this.store.set({ lookup });
      this.render();
      if (select) this.selectTerritory();
    } catch (error) {
      fill(this.result, h('p', { class: 'error' }, errorMessage(error, { what: 'lookup' })));
    }
  }

  /** Shows a message key for coordinates that could not be read (the person typed them). */
  invalid(key) {
    this.result.hidden = false;
    fill(this.result, h('p', { class: 'error', role: 'alert' }, t(key)));
  }

  /** Opens the territory containing the checked site: the main edition's, else the compared one's. */
  selectTerritory() {
    const { lookup, edition, compare } = this.store.get();
    if (!lookup) return;
    const found =
      lookup.territories.find((x) => x.edition === edition) ??
      (compare ? lookup.territories.find((x) => x.edition === compare) : undefined);
    if (found) this.onTerritory(found.edition, found.id, { fit: false });
    else this.onNoTerritory();
  }

  /** Draws the answer again (the edition or the language changed). */
  render() {
    const { lookup: l, site, edition, editions } = this.store.get();
    if (!l || !site) return;
    const inside = l.territories.find((x) => x.edition === edition);
    const nearest = l.nearest.find((x) => x.edition === edition);
    const commune = l.units.find((u) => u.kind === 'COM');
    const epci = l.units.find((u) => u.kind === 'EPCI');
    const point = h(
      'p',
      { class: 'coords-line' },
      t('site.point', { lat: formatCoordinate(site.lat, 'lat'), lon: formatCoordinate(site.lon, 'lon') }),
      site.swapped ? ` ${t('site.swapped')}` : '',
    );
    let verdict;
    if (inside) {
      const open = h('a', { href: territoryLink(inside.edition, inside.id, edition), class: 'territory-link' }, inside.name);
      open.addEventListener('click', (e) => {
        e.preventDefault();
        this.onTerritory(inside.edition, inside.id, { fit: true });
      });
      verdict = [
        h('p', { class: 'verdict in' }, `${t('site.in')} `, h('strong', { 'data-testid': 'lookup-territory' }, open), ` (${inside.edition})`),
        inside.via ? h('p', { class: 'via' }, t('site.via', { kind: t(`kind.${inside.via.kind}`), name: inside.via.name, code: inside.via.code })) : null,
      ].filter(Boolean);
    } else {
      verdict = [
        h('p', { class: 'verdict out' }, t('site.out', { edition })),
        nearest
          ? h('p', { 'data-testid': 'lookup-nearest' }, t('site.nearest', { name: nearest.name, distance: formatDistance(nearest.distance_m) }))
          : h('p', {}, t('site.noneEdition', { edition })),
      ];
    }
    const units = commune
      ? h('p', { class: 'units' }, t('site.units', { commune: `${commune.name} (${commune.code})`, epci: epci ? epci.name : '—' }))
      : epci
        ? h('p', { class: 'units' }, t('site.epciOnly', { epci: `${epci.name} (${epci.code})` }))
        : h('p', { class: 'units' }, t('site.nounit'));
    // The static site answers from the map's tiles, not from the exact geometry.
    const note = l.from_tiles ? h('p', { class: 'small', 'data-testid': 'lookup-note' }, t('site.fromTiles')) : null;
    fill(this.result, point, verdict, units, note);
    this.result.dataset.edition = edition;
    this.result.dataset.territory = inside ? inside.id : '';
    this.result.classList.toggle('inside', Boolean(inside));
    // The other editions, apart from the main answer (whose element tests read).
    const others = editions
      .map((e) => e.id)
      .filter((id) => id !== edition)
      .map((id) => {
        const x = l.territories.find((y) => y.edition === id);
        if (x) return h('li', {}, t('site.otherIn', { edition: id, name: x.name }));
        const n = l.nearest.find((y) => y.edition === id);
        return n ? h('li', {}, t('site.otherOut', { edition: id, name: n.name, distance: formatDistance(n.distance_m) })) : null;
      })
      .filter(Boolean);
    this.details.hidden = others.length === 0;
    fill(this.details, others.length > 0 ? [h('p', { class: 'small-title' }, t('site.others')), h('ul', { class: 'plain' }, others)] : []);
  }
}
