// The status line at the top of the panel (aria-live): short notices that clear themselves, or stay.

/** How long a notice stays unless it is sticky. */
const NOTICE_MS = 8000;

export class Status {
  /** @param {HTMLElement} el */
  constructor(el) {
    this.el = el;
    this.timer = null;
  }

  /** Shows `text` (empty: clears); a sticky text stays until the next one. */
  say(text, { sticky = false } = {}) {
    this.el.textContent = text;
    clearTimeout(this.timer);
    if (!sticky && text) this.timer = setTimeout(() => (this.el.textContent = ''), NOTICE_MS);
  }
}
