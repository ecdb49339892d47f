// The legend card: the layer check boxes, the OpenStreetMap base toggle, the region colours (with the
// count of territories of the shown edition) and the comparison legend.

import { getJSON, url } from '../api.js';
import { h, fill, byId } from '../dom.js';
import { t } from '../i18n.js';
import { REGIONS } from '../regions.js';
import { STATIC } from '../static-source.js';

/** Check box ids of the layer groups of style.js. */
const TOGGLES = {
  territories: 'toggle-territories',
  epci: 'toggle-epci',
  ept: 'toggle-ept',
  places: 'toggle-places',
  sites: 'toggle-sites',
};

export class LegendPanel {
  /** @param {{store, view, say: (text: string) => void}} options */
  constructor({ store, view, say }) {
    this.store = store;
    this.view = view;
    this.say = say;
    /** Territory summaries per edition, fetched once. */
    this.summaries = new Map();
    this.els = {
      regions: byId('region-legend'),
      regionsBox: byId('regions'),
      compare: byId('compare-legend'),
      osm: byId('toggle-osm'),
    };
  }

  /** Listens to the check boxes; turns the base map on again if the person chose it last time. */
  wire() {
    // The static site's archive has no commune names or borders (style.js draws none there).
    byId('legend-places').hidden = STATIC;
    for (const [group, id] of Object.entries(TOGGLES)) {
      const box = byId(id);
      box.addEventListener('change', () => this.view.setGroupVisible(group, box.checked));
    }
    const osm = this.els.osm;
    osm.addEventListener('change', async () => {
      localStorage.setItem('territoires.osm', osm.checked ? 'on' : 'off');
      if (!osm.checked) {
        this.view.setBaseMap(false);
        return;
      }
      this.say(t('osm.loading'));
      const ok = await this.view.setBaseMap(true);
      if (ok) this.say('');
      else if (osm.checked) {
        osm.checked = false;
        this.say(t('osm.failed'));
      }
    });
    // The base map is only requested once the person has asked for it (it calls a third party).
    if (localStorage.getItem('territoires.osm') === 'on') {
      osm.checked = true;
      osm.dispatchEvent(new Event('change'));
    }
  }

  summariesOf(edition) {
    if (!this.summaries.has(edition)) this.summaries.set(edition, getJSON(url('/api/territories', { edition })));
    return this.summaries.get(edition);
  }

  async renderRegions() {
    const { edition } = this.store.get();
    if (!edition) return;
    const list = await this.summariesOf(edition).catch(() => []);
    const present = new Set(list.map((s) => s.region));
    const items = Object.entries(REGIONS)
      .filter(([code]) => present.has(code))
      .map(([code, r]) => h('li', {}, swatch(r.color), `${r.name} (${list.filter((s) => s.region === code).length})`));
    fill(this.els.regions, items);
  }

  renderCompare() {
    const { edition, compare } = this.store.get();
    // The territories' swatch follows the drawing: region colours, or blue while comparing.
    byId('sw-territories').classList.toggle('cmp-joined', Boolean(compare));
    byId('lg-territories').textContent = compare ? t('layers.territoriesCompare', { edition }) : t('layers.territories');
    this.els.regionsBox.hidden = Boolean(compare);
    this.els.compare.hidden = !compare;
    if (!compare) return;
    byId('lg-left').textContent = t('compare.left', { a: compare });
    byId('lg-joined').textContent = t('compare.joined', { b: edition });
    byId('lg-both').textContent = t('compare.both');
  }

  render() {
    this.renderRegions();
    this.renderCompare();
  }
}

function swatch(color) {
  const el = h('span', { class: 'swatch' });
  // CSSOM, not a style attribute: allowed by the page's CSP.
  el.style.backgroundColor = color;
  return el;
}
