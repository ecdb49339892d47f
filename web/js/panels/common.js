// Pieces the panels share: the close button and the text of a failed request.

import { h } from '../dom.js';
import { t } from '../i18n.js';

/** The × that closes a panel, named in the page's language. */
export function closeButton(onClick) {
  return h('button', { type: 'button', class: 'close', 'aria-label': t('close'), onclick: onClick }, '×');
}

/**
 * What to tell the person when a request failed.
 * @param {Error & {code?: string, status?: number}} error
 * @param {{what?: string}} context what was asked for
 */
export function errorMessage(error, context = {}) {
  void context;
  return t('error.load', { message: error.message });
}
