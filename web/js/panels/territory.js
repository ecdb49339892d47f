// The territory panel: a territory's facts and members (GET /api/territories/{edition}/{id}) and, while
// two editions are compared, where each member is in the other one. It reads and writes the store's
// `selected` and `territory`; it never touches the map but through the view's methods.

import { getJSON } from '../api.js';
import { h, fill } from '../dom.js';
import { t, formatNumber, language } from '../i18n.js';
import { territoryPagePath } from '../pages.js';
import { regionName } from '../regions.js';
import { territoryLink } from '../url-state.js';
import { Panel, closeButton, errorMessage } from './common.js';

export class TerritoryPanel extends Panel {
  /**
   * @param {HTMLElement} el
   * @param {{store, view, onOpen: () => void}} options `onOpen` runs when a territory is opened (the
   *   unit panel closes then).
   */
  constructor(el, options) {
    super(el, options);
    this.onOpen = options.onOpen;
  }

  close() {
    this.store.set({ selected: null, territory: null });
    this.hide();
    this.view.setSelected(null, null);
  }

  async open(edition, id, { fit = false } = {}) {
    this.store.set({ selected: { edition, id }, territory: null });
    this.view.setSelected(edition, id);
    this.onOpen();
    this.el.hidden = false;
    fill(this.el, h('p', { class: 'loading' }, t('territory.loading')));
    try {
      const detail = await getJSON(`/api/territories/${encodeURIComponent(edition)}/${encodeURIComponent(id)}`);
      const { selected } = this.store.get();
      if (selected?.id !== id || selected?.edition !== edition) return;
      this.store.set({ territory: detail });
      this.render();
      if (fit) this.view.fitBbox(detail.bbox);
    } catch (error) {
      fill(
        this.el,
        closeButton(() => this.close()),
        h('p', { class: 'error', 'data-testid': 'territory-error' }, errorMessage(error, { what: 'territory', edition, id })),
      );
    }
  }

  /** Draws the loaded territory again (the language or the comparison changed). */
  render() {
    const { territory: d, edition, compare, editions } = this.store.get();
    if (!d) return;
    const other = compare && d.edition === edition ? compare : d.edition !== edition ? edition : null;
    const zoom = h(
      'a',
      { href: territoryLink(d.edition, d.id, edition), class: 'zoom-link', 'data-testid': 'zoom-to-territory' },
      t('territory.zoom'),
    );
    zoom.addEventListener('click', (e) => {
      e.preventDefault();
      this.view.fitBbox(d.bbox);
    });
    const rows = d.member_list.map((m) =>
      h(
        'tr',
        { dataset: { code: m.code } },
        h('td', {}, t(`kind.${m.kind}`)),
        h('td', {}, m.name),
        h('td', { class: 'num' }, m.siren ?? ''),
        other ? h('td', { class: 'compare-cell', 'data-member': m.code }, '…') : null,
      ),
    );
    const page = territoryPagePath(d.edition, d.id, language());
    const year = editions.find((x) => x.id === d.edition)?.meta?.population?.year ?? '';
    fill(
      this.el,
      closeButton(() => this.close()),
      h('p', { class: 'kicker' }, t('territory.kicker', { edition: d.edition })),
      h('h2', { 'data-testid': 'territory-name' }, d.name),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, t('territory.code')),
        h('dd', {}, d.id),
        h('dt', {}, t('territory.region')),
        h('dd', {}, d.region_name ?? regionName(d.region)),
        h('dt', {}, t('territory.area')),
        h('dd', {}, t('km2', { value: formatNumber(d.area_km2, 1) })),
        h('dt', {}, t('territory.members')),
        h('dd', {}, formatNumber(d.members)),
        h('dt', {}, t('territory.communes')),
        h('dd', { 'data-testid': 'territory-communes' }, formatNumber(d.communes)),
        h('dt', {}, t('territory.population', { year })),
        h('dd', { 'data-testid': 'territory-population' }, formatNumber(d.population)),
      ),
      h('p', {}, zoom),
      page ? h('p', {}, h('a', { href: page, 'data-testid': 'territory-page-link' }, t('territory.page'))) : null,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'members', 'data-testid': 'members' },
          h('caption', { class: 'visually-hidden' }, t('territory.members')),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, t('member.kind')),
              h('th', { scope: 'col' }, t('member.name')),
              h('th', { scope: 'col' }, t('member.siren')),
              other ? h('th', { scope: 'col' }, t('compare.column', { edition: other })) : null,
            ),
          ),
          h('tbody', {}, rows),
        ),
      ),
    );
    if (other) this.fillMemberComparison(d, other);
  }

  /** For each member, the territory it belongs to in the other edition, or that it joined / left. */
  async fillMemberComparison(d, other) {
    const joinedOrLeft = d.edition === this.store.get().edition ? t('compare.joinedMember') : t('compare.leftMember');
    await Promise.all(
      d.member_list.map(async (m) => {
        let text;
        try {
          const unit = await getJSON(`/api/units/${encodeURIComponent(m.code)}`);
          const there = unit.territories.filter((x) => x.edition === other);
          text = there.length > 0 ? there.map((x) => x.name).join(', ') : joinedOrLeft;
        } catch {
          text = '?';
        }
        if (this.store.get().territory !== d) return;
        const cell = this.el.querySelector(`td[data-member="${CSS.escape(m.code)}"]`);
        if (cell) {
          cell.textContent = text;
          cell.classList.toggle('changed', text === joinedOrLeft);
        }
      }),
    );
  }
}
