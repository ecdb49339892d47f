// The search box: suggestions as you type (an ARIA combobox driven by the keyboard or the pointer),
// from GET /api/search (territories, EPCI, EPT and communes by name, SIREN or INSEE code).

import { getJSON, url } from './api.js';
import { h, fill } from './dom.js';
import { t } from './i18n.js';
import { errorReason } from './panels/common.js';

const DEBOUNCE_MS = 150;
const LIMIT = 10;

/**
 * The line under a suggestion, in the page's language. The API words a territory's context in French
 * ("Territoire 2023 · Hauts-de-France"): the region is kept, the rest said here. Units' contexts
 * ("Commune (02) · CA du Soissonnais", "CC · 12 communes") hold only names, codes and words both
 * languages share.
 */
export function contextOf(item) {
  if (item.kind !== 'territory') return item.context ?? '';
  const region = (item.context ?? '').replace(/^Territoire\s+\S+\s*(·\s*)?/, '');
  return [item.edition ? t('search.edition', { edition: item.edition }) : null, region].filter(Boolean).join(' · ');
}

export class Search {
  /**
   * @param {HTMLInputElement} input
   * @param {HTMLUListElement} list
   * @param {{edition: () => string, onChoose: (item) => void}} options
   */
  constructor(input, list, { edition, onChoose }) {
    this.input = input;
    this.list = list;
    this.edition = edition;
    this.onChoose = onChoose;
    this.items = [];
    this.active = -1;
    this.timer = null;
    this.controller = null;
    input.addEventListener('input', () => this.schedule());
    input.addEventListener('keydown', (e) => this.keydown(e));
    input.addEventListener('focus', () => {
      if (this.items.length > 0 && input.value.trim().length >= 2) this.open();
    });
    input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
    // mousedown, not click: choosing must happen before the input's blur closes the list.
    list.addEventListener('mousedown', (e) => {
      const li = e.target.closest('li[data-index]');
      if (!li) return;
      e.preventDefault();
      this.choose(Number(li.dataset.index));
    });
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), DEBOUNCE_MS);
  }

  async run() {
    const q = this.input.value.trim();
    this.controller?.abort();
    if (q.length < 2) {
      this.render([]);
      return;
    }
    const controller = new AbortController();
    this.controller = controller;
    try {
      const items = await this.fetch(q, controller.signal);
      if (controller.signal.aborted) return;
      this.render(items);
    } catch (error) {
      if (error.name === 'AbortError') return;
      this.render([], errorReason(error, { what: 'search' }));
    }
  }

  fetch(q, signal) {
    return getJSON(url('/api/search', { q, edition: this.edition(), limit: LIMIT }), { signal });
  }

  render(items, message) {
    this.items = items;
    this.active = items.length > 0 ? 0 : -1;
    const options = items.map((item, i) =>
      h(
        'li',
        {
          id: `search-option-${i}`,
          role: 'option',
          'aria-selected': i === this.active ? 'true' : 'false',
          dataset: { index: String(i), kind: item.kind, code: item.code },
          'data-testid': 'search-option',
        },
        h('span', { class: 'option-name' }, item.name),
        h(
          'span',
          { class: 'option-meta' },
          h('span', { class: `badge kind-${item.kind}` }, t(`kind.${item.kind}`)),
          ' ',
          contextOf(item),
        ),
      ),
    );
    const q = this.input.value.trim();
    if (options.length === 0 && q.length >= 2) {
      options.push(h('li', { class: 'empty', role: 'presentation' }, message ?? t('search.none')));
    }
    fill(this.list, options);
    if (options.length > 0 && document.activeElement === this.input) this.open();
    else this.close();
    this.highlight();
  }

  open() {
    this.list.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
  }

  close() {
    this.list.hidden = true;
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }

  highlight() {
    for (const li of this.list.querySelectorAll('li[data-index]')) {
      const on = Number(li.dataset.index) === this.active;
      li.setAttribute('aria-selected', on ? 'true' : 'false');
      li.classList.toggle('active', on);
      if (on) {
        this.input.setAttribute('aria-activedescendant', li.id);
        li.scrollIntoView({ block: 'nearest' });
      }
    }
  }

  keydown(e) {
    const n = this.items.length;
    if (e.key === 'ArrowDown' && n > 0) {
      e.preventDefault();
      this.open();
      this.active = (this.active + 1) % n;
      this.highlight();
    } else if (e.key === 'ArrowUp' && n > 0) {
      e.preventDefault();
      this.open();
      this.active = (this.active - 1 + n) % n;
      this.highlight();
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (this.active >= 0) this.choose(this.active);
      else this.run();
    } else if (e.key === 'Escape') {
      this.close();
    }
  }

  choose(index) {
    const item = this.items[index];
    if (!item) return;
    this.input.value = item.name;
    this.close();
    this.onChoose(item);
  }

  /** Forgets the suggestions (the edition changed: territory answers are per edition). */
  reset() {
    this.items = [];
    fill(this.list);
    this.close();
  }
}
