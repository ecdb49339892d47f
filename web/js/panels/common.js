// Pieces the panels share: the close button and the text of a failed request, always in the page's
// language (the API's own messages are English and are not shown).

import { h, fill } from '../dom.js';
import { t, hasMessage } from '../i18n.js';
import { ApiError } from '../api.js';

/** What every side panel has: its element, the store it reads and writes, the map view it points at. */
export class Panel {
  /** @param {HTMLElement} el @param {{store, view}} options */
  constructor(el, { store, view }) {
    this.el = el;
    this.store = store;
    this.view = view;
  }

  /** Hides the panel and empties it. */
  hide() {
    this.el.hidden = true;
    fill(this.el);
  }
}

/** The × that closes a panel, named in the page's language. */
export function closeButton(onClick) {
  return h('button', { type: 'button', class: 'close', 'aria-label': t('close'), onclick: onClick }, '×');
}

/**
 * Why a request failed, in the page's language: the message for the API's error code in this context
 * (`error.territory.not_found`), else for the code alone (`error.busy`), else a generic one.
 * @param {Error} error what getJSON (or the batch upload) threw
 * @param {{what?: string}} context what was asked for, and the values its messages name
 */
export function errorReason(error, { what, ...params } = {}) {
  if (error instanceof ApiError) {
    for (const key of [what && `error.${what}.${error.code}`, `error.${error.code}`]) {
      if (key && hasMessage(key)) return t(key, params);
    }
    return t('error.generic', { status: error.status });
  }
  // fetch rejects with a TypeError when no answer came (offline, server down).
  if (error?.name === 'TypeError' || error?.network) return t('error.network');
  return t('error.unexpected');
}

/** "Chargement impossible : …" / "Could not load: …" with the reason. */
export function errorMessage(error, context = {}) {
  return t('error.load', { message: errorReason(error, context) });
}
