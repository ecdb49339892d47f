// The share card: copy the link of this view, download the edition's territories, print the map.

import { h, fill, byId } from '../dom.js';
import { t } from '../i18n.js';
import { url } from '../api.js';

export class SharePanel {
  /** @param {{view}} options */
  constructor({ view }) {
    this.view = view;
    this.els = { note: byId('share-note'), exportLink: byId('export-geojson') };
  }

  /** Points the GeoJSON download at the edition's layer. */
  setEdition(edition) {
    this.els.exportLink.href = url('/api/layers/territories.geojson', { edition });
    this.els.exportLink.download = `territoires-industrie-${edition}.geojson`;
  }

  wire() {
    const map = this.view.map;
    byId('copy-link').addEventListener('click', async () => {
      const link = location.href;
      try {
        await navigator.clipboard.writeText(link);
        fill(this.els.note, t('share.copied'));
      } catch {
        fill(this.els.note, `${t('share.manual')} `, h('code', {}, link));
      }
    });
    byId('print').addEventListener('click', () => this.print());
    // Printing from the browser's menu: redraw the map at its print size (best effort, the browser may
    // snapshot before the next frame; the Imprimer button waits for it).
    window.addEventListener('beforeprint', () => map.resize());
    window.addEventListener('afterprint', () => {
      document.body.classList.remove('printing');
      map.resize();
    });
  }

  async print() {
    const map = this.view.map;
    document.body.classList.add('printing');
    map.resize();
    await new Promise((resolve) => map.once('idle', resolve));
    window.print();
  }
}
