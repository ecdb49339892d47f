// The edition picker in the header and the comparison controls of the legend card: the server's
// editions named in the page's language, the chosen one and the one compared with it.

import { h, fill, byId } from '../dom.js';
import { t, language } from '../i18n.js';
import { editionLabel, olderEdition } from '../editions.js';

export class EditionPicker {
  /** @param {{store, onEdition: (id: string) => void, onCompare: (id: string|null) => void}} options */
  constructor({ store, onEdition, onCompare }) {
    this.store = store;
    this.onEdition = onEdition;
    this.onCompare = onCompare;
    this.els = { edition: byId('edition'), compare: byId('compare'), compareEdition: byId('compare-edition') };
  }

  wire() {
    const { edition, compare, compareEdition } = this.els;
    edition.addEventListener('change', () => this.onEdition(edition.value));
    compare.addEventListener('change', () =>
      this.onCompare(compare.checked ? compareEdition.value || this.older() : null),
    );
    compareEdition.addEventListener('change', () => {
      if (compare.checked) this.onCompare(compareEdition.value);
    });
  }

  older() {
    const { editions, edition } = this.store.get();
    return olderEdition(editions, edition);
  }

  /** Fills both selects from the store (editions, edition, compare). */
  render() {
    const { editions, edition, compare } = this.store.get();
    const option = (e) => {
      const params = { id: e.id, label: editionLabel(e, language()), date: e.meta?.list_date, count: e.territories };
      return h('option', { value: e.id }, t(e.meta?.list_date ? 'editions.dated' : 'editions.count', params));
    };
    fill(this.els.edition, editions.map(option));
    this.els.edition.value = edition ?? '';
    const others = editions.filter((e) => e.id !== edition);
    fill(this.els.compareEdition, others.map(option));
    if (compare) this.els.compareEdition.value = compare;
    this.els.compare.disabled = others.length === 0;
    this.els.compareEdition.disabled = others.length === 0;
  }

  /** Shows the comparison state (after the store's `compare` changed). */
  showCompare(compare) {
    this.els.compare.checked = Boolean(compare);
    if (compare) this.els.compareEdition.value = compare;
  }

  /** When nothing is compared, the select proposes the previous edition. */
  proposeOlder() {
    if (!this.store.get().compare) this.els.compareEdition.value = this.older() ?? '';
  }

  /** Selects `id` in the header (an edition chosen from elsewhere than the select). */
  select(id) {
    this.els.edition.value = id;
  }
}
