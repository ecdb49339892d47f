// The hover label: the names of the territories under the pointer, beside it, and the hovered
// territory drawn stronger (feature state `hover`). Bound to the map's pointer events.

import { t } from '../i18n.js';

export class HoverLabel {
  /**
   * @param {HTMLElement} el the label
   * @param {{view, comparing: () => boolean}} options
   */
  constructor(el, { view, comparing }) {
    this.el = el;
    this.view = view;
    this.comparing = comparing;
    this.feature = null;
    this.frame = 0;
  }

  wire() {
    this.view.map.on('mousemove', (e) => this.move(e));
    this.view.map.getCanvas().addEventListener('mouseleave', () => this.leave());
  }

  highlight(feature) {
    const map = this.view.map;
    const f = this.feature;
    if (f && (!feature || feature.id !== f.id || feature.source !== f.source)) {
      map.setFeatureState(f, { hover: false });
      this.feature = null;
    }
    if (feature && feature.source === 'ti-main') {
      this.feature = { source: feature.source, sourceLayer: feature.sourceLayer, id: feature.id };
      map.setFeatureState(this.feature, { hover: true });
    }
  }

  move(e) {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => {
      const features = this.view.territoriesAt(e.point);
      const seen = new Set();
      const lines = [];
      for (const f of features) {
        const key = `${f.source}/${f.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        lines.push(this.comparing() ? t('unit.in', { edition: f.properties.edition, name: f.properties.name }) : f.properties.name);
      }
      this.highlight(features.find((f) => f.source === 'ti-main'));
      this.view.map.getCanvas().style.cursor = lines.length > 0 ? 'pointer' : '';
      if (lines.length === 0) {
        this.el.hidden = true;
        return;
      }
      this.el.textContent = lines.join('\n');
      this.el.hidden = false;
      this.el.style.transform = `translate(${Math.round(e.point.x + 14)}px, ${Math.round(e.point.y + 14)}px)`;
    });
  }

  leave() {
    cancelAnimationFrame(this.frame);
    this.el.hidden = true;
    this.highlight(null);
  }
}
