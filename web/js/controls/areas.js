// On-map control: one button per part of France (metropole and the five overseas départements) that
// frames it. A MapLibre IControl, so the map places it and removes it with its other controls.

import { h } from '../dom.js';
import { t } from '../i18n.js';

/** The buttons: area key of coords.js AREAS, and the message key of its name (or the name itself). */
const BUTTONS = [
  ['metro', 'area.metro'],
  ['971', null, 'Guadeloupe'],
  ['972', null, 'Martinique'],
  ['973', 'area.973'],
  ['974', null, 'La Réunion'],
  ['976', null, 'Mayotte'],
];

export class AreaControl {
  /** @param {{onArea: (key: string) => void}} options */
  constructor({ onArea }) {
    this.onArea = onArea;
    this.el = null;
  }

  onAdd() {
    this.el = h(
      'nav',
      { class: 'maplibregl-ctrl insets', 'data-i18n-aria-label': 'insets.label', 'aria-label': t('insets.label') },
      BUTTONS.map(([area, key, name]) =>
        h('button', { type: 'button', 'data-area': area, 'data-i18n': key ?? undefined, onclick: () => this.onArea(area) }, key ? t(key) : name),
      ),
    );
    return this.el;
  }

  onRemove() {
    this.el?.remove();
    this.el = null;
  }
}
