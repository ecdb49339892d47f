// The unit panel: an EPCI, EPT or commune chosen in the search (GET /api/units/{code}), with the
// territories it is in per edition. It reads and writes the store's `unit`.

import { getJSON } from '../api.js';
import { h, fill } from '../dom.js';
import { t, formatNumber, language } from '../i18n.js';
import { unitPagePath } from '../pages.js';
import { territoryLink, unitLink } from '../url-state.js';
import { Panel, closeButton, errorMessage } from './common.js';

export class UnitPanel extends Panel {
  /**
   * @param {HTMLElement} el
   * @param {{store, view, onTerritory: (edition: string, id: string) => void}} options `onTerritory`
   *   opens one of the unit's territories.
   */
  constructor(el, options) {
    super(el, options);
    this.onTerritory = options.onTerritory;
  }

  close() {
    this.store.set({ unit: null });
    this.hide();
    this.view.setUnitSelected(null);
  }

  async open(code, { fit = false } = {}) {
    this.store.set({ unit: code });
    this.el.hidden = false;
    fill(this.el, h('p', { class: 'loading' }, '…'));
    try {
      const u = await getJSON(`/api/units/${encodeURIComponent(code)}`);
      if (this.store.get().unit !== code) return;
      this.view.setUnitSelected(u.kind === 'COM' ? null : u.code);
      this.render(u);
      if (fit) this.view.fitBbox(u.bbox, { maxZoom: 13 });
    } catch (error) {
      fill(
        this.el,
        closeButton(() => this.close()),
        h('p', { class: 'error', 'data-testid': 'unit-error' }, errorMessage(error, { what: 'unit', code })),
      );
    }
  }

  render(u) {
    const { edition } = this.store.get();
    const zoom = h('a', { href: unitLink(u.code), class: 'zoom-link' }, t('unit.zoom'));
    zoom.addEventListener('click', (e) => {
      e.preventDefault();
      this.view.fitBbox(u.bbox, { maxZoom: 13 });
    });
    const page = unitPagePath(u.kind, u.insee ?? u.code, language());
    const territories = u.territories.map((x) => {
      const link = h('a', { href: territoryLink(x.edition, x.id, edition) }, x.name);
      link.addEventListener('click', (e) => {
        e.preventDefault();
        this.onTerritory(x.edition, x.id);
      });
      const via =
        x.via && x.via.code !== u.code ? ` (${t('site.via', { kind: t(`kind.${x.via.kind}`), name: x.via.name, code: x.via.code })})` : '';
      return h('li', {}, t('unit.editionPrefix', { edition: x.edition }), link, via);
    });
    fill(
      this.el,
      closeButton(() => this.close()),
      h('p', { class: 'kicker' }, t('unit.kicker', { kind: t(`kind.${u.kind}`), code: u.insee ?? u.code })),
      h('h2', {}, u.name),
      h(
        'dl',
        { class: 'facts' },
        u.siren ? [h('dt', {}, t('member.siren')), h('dd', {}, u.siren)] : null,
        u.population ? [h('dt', {}, t('unit.population')), h('dd', {}, formatNumber(u.population))] : null,
        u.communes ? [h('dt', {}, t('unit.communes')), h('dd', {}, formatNumber(u.communes))] : null,
        u.parents?.length ? [h('dt', {}, t('unit.parents')), h('dd', {}, u.parents.map((p) => p.name).join(', '))] : null,
      ),
      h('h3', {}, t('unit.territories')),
      territories.length > 0 ? h('ul', { class: 'plain' }, territories) : h('p', {}, t('unit.none')),
      h('p', {}, zoom),
      page ? h('p', {}, h('a', { href: page, 'data-testid': 'unit-page-link' }, t('unit.page'))) : null,
    );
  }
}
