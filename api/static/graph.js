// The relation graph, drawn by Cytoscape.js (vendored, with the fcose
// force-directed layout). Cytoscape draws on a canvas; on top of each node sits
// a transparent DOM element (`graph-node`) carrying the node's id, type and
// risk, focusable for the keyboard. Pointer and touch events on it bubble to
// Cytoscape's container, which handles them by position (tap, double-tap,
// drag, wheel zoom, pinch zoom, pan), so both layers agree on what was hit.
//
// Between two subjects the API may return several relations (the registry and
// the officers feed both assert one legal representative): they are drawn as
// one edge with the labels combined. Labels keep a constant size on screen
// whatever the zoom; zoomed far out, only the centre, listed and implicated
// subjects and the highlighted path keep theirs.

import { clear, h } from './dom.js';
import { label, splitKey, vocabulary } from './labels.js';

const FONT = '"CL Noto Sans SC", "Noto Sans CJK SC", sans-serif';
const NODE_PX = 12; // label size on screen
const EDGE_PX = 10;
const SHOW_ALL_LABELS_ZOOM = 0.45;
const SHOW_EDGE_LABELS_ZOOM = 0.75;
const MIN_HIT_PX = 24; // a fingertip's target, whatever the zoom

// How subjects and relations are drawn: graph/style.yaml, served in GET /model
// (the notebooks' figures read the same table). Until it is loaded, or for a
// type it does not name, a neutral grey.
const NEUTRAL = { fill: '#9aa8b6', border: '#ffffff', shape: 'ellipse', size: 24, color: '#9aa8b6', line: 'solid', width: 1.4 };
const drawing = (table) => (vocabulary().style || {})[table] || {};
const riskStyles = () => drawing('risk');
const typeStyles = () => drawing('subject_types');
// In weight order: a merged edge takes the style of its first type here.
const relationStyles = () => drawing('relation_types');
const otherRelation = () => ({ ...NEUTRAL, ...drawing('other_relation') });
// the centre of a neighbourhood, and a highlighted path
const marks = () => ({ centre: '#1f2933', path: '#1f2933', ...drawing('marks') });
const relRank = (rel) => {
  const i = Object.keys(relationStyles()).indexOf(rel);
  return i < 0 ? 99 : i;
};

function short(text, n = 10) {
  const s = String(text ?? '');
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** One relation's label: its type, and the share or the title when there is one. */
export function edgeLabel(e) {
  let text = label('relation_types', e.relation);
  if (e.relation === 'shareholder' && typeof e.share === 'number') {
    text += ` ${Math.round(e.share * 1000) / 10}%`;
  } else if (e.title && e.title !== text) {
    text += `·${e.title}`;
  } else if (e.role && e.role !== text && e.role !== e.relation) {
    text += `·${e.role}`;
  }
  return text;
}

/** The API's relations between the same two subjects, as one drawn edge. */
export function mergeEdges(edges) {
  const pairs = new Map();
  for (const e of edges) {
    const key = [e.source, e.target].sort().join('|');
    if (!pairs.has(key)) pairs.set(key, []);
    pairs.get(key).push(e);
  }
  return [...pairs.entries()].map(([key, list]) => {
    const sorted = [...list].sort((a, b) => relRank(a.relation) - relRank(b.relation) || String(a.id).localeCompare(String(b.id)));
    const first = sorted[0];
    const labels = [...new Set(sorted.map(edgeLabel))];
    const both = sorted.some((e) => e.source !== first.source);
    return {
      id: `E|${key}`,
      source: first.source,
      target: first.target,
      relations: [...new Set(sorted.map((e) => e.relation))],
      ids: sorted.map((e) => e.id),
      label: labels.join(' / '),
      kind: first.relation,
      both,
      members: sorted,
    };
  });
}

function download(name, href) {
  const a = h('a', { href, download: name, class: 'visually-hidden' });
  document.body.append(a);
  a.click();
  a.remove();
}

export class Graph {
  constructor(container, edgeList, { onOpen, onExpand, onSelect }) {
    this.container = container;
    this.edgeList = edgeList;
    this.onOpen = onOpen;
    this.onExpand = onExpand;
    this.onSelect = onSelect || (() => {});
    this.nodes = new Map();
    this.edges = new Map();
    this.centre = null;
    this.selected = null;
    this.highlight = new Set();
    this.addedBy = new Map(); // node id -> ids that expanding it added
    this.asOf = null;
    this.overlay = new Map();
    this.frame = 0;
    this.cy = null;
  }

  /** Creates the Cytoscape instance on first use (the vendored scripts load deferred). */
  ensure() {
    if (this.cy) return this.cy;
    const cytoscape = window.cytoscape;
    if (window.cytoscapeFcose && !this.constructor.fcoseRegistered) {
      cytoscape.use(window.cytoscapeFcose);
      this.constructor.fcoseRegistered = true;
    }
    this.layer = h('div', { class: 'node-layer' });
    const cy = cytoscape({
      container: this.container,
      style: this.stylesheet(),
      minZoom: 0.08,
      maxZoom: 5,
      boxSelectionEnabled: false,
      selectionType: 'single',
      pixelRatio: 'auto',
    });
    this.cy = cy;
    this.container.append(this.layer);
    // Cytoscape caches where its container is on the page and refreshes that on
    // scroll and resize only; a card opening above the graph moves it without
    // either. Refreshed before every gesture reaches Cytoscape (capture, on the parent).
    const refresh = () => {
      const r = cy.renderer();
      if (r && r.invalidateContainerClientCoordsCache) r.invalidateContainerClientCoordsCache();
    };
    for (const type of ['mousedown', 'touchstart', 'wheel', 'pointerdown']) {
      this.container.parentElement.addEventListener(type, refresh, { capture: true, passive: true });
    }
    cy.on('tap', 'node', (ev) => this.select(ev.target.id()));
    cy.on('dbltap', 'node', (ev) => this.onExpand(ev.target.id()));
    cy.on('viewport position resize add remove', () => this.schedule());
    cy.on('zoom', () => this.scheduleStyle());
    // Canvas text drawn before the web font arrives would stay in a fallback font.
    if (document.fonts) document.fonts.load(`${NODE_PX}px ${FONT}`, '信用主体').then(() => cy.style().update());
    return cy;
  }

  stylesheet() {
    const zoom = () => (this.cy ? this.cy.zoom() : 1);
    const important = (ele) =>
      ele.id() === this.centre || this.highlight.has(ele.id()) || ele.id() === this.selected ||
      ele.data('risk') === 'listed' || ele.data('risk') === 'implicated';
    const style = [
      {
        selector: 'node',
        style: {
          label: (ele) => (zoom() >= SHOW_ALL_LABELS_ZOOM || important(ele) ? ele.data('short') : ''),
          'font-family': FONT,
          'font-size': () => NODE_PX / zoom(),
          'text-valign': 'bottom',
          'text-margin-y': () => 3 / zoom(),
          color: '#1f2933',
          'text-background-color': '#ffffff',
          'text-background-opacity': 0.85,
          'text-background-padding': () => 1.5 / zoom(),
          'text-background-shape': 'roundrectangle',
          'border-width': 2,
          'border-color': '#ffffff',
          'background-color': NEUTRAL.fill,
          shape: NEUTRAL.shape,
          width: NEUTRAL.size,
          height: NEUTRAL.size,
        },
      },
    ];
    for (const [type, s] of Object.entries(typeStyles())) {
      style.push({ selector: `node[type="${type}"]`, style: { 'background-color': s.fill, shape: s.shape, width: s.size, height: s.size } });
    }
    for (const [risk, s] of Object.entries(riskStyles())) {
      const st = { 'border-color': s.border, 'border-style': s.dashed ? 'dashed' : 'solid' };
      if (s.fill) st['background-color'] = s.fill;
      if (risk !== 'clear') st['border-width'] = 3.5;
      style.push({ selector: `node[risk="${risk}"]`, style: st });
    }
    style.push(
      { selector: 'node.centre', style: { 'outline-width': 4, 'outline-color': marks().centre, 'outline-offset': 2 } },
      { selector: 'node.hl', style: { 'outline-width': 4, 'outline-color': marks().path, 'outline-offset': 2 } },
      { selector: 'node:selected', style: { 'outline-width': 4, 'outline-color': '#ffcc00', 'outline-offset': 2 } },
      {
        selector: 'edge',
        style: {
          'curve-style': 'bezier',
          width: otherRelation().width,
          'line-color': otherRelation().color,
          'target-arrow-color': otherRelation().color,
          'source-arrow-color': otherRelation().color,
          'target-arrow-shape': 'triangle',
          'arrow-scale': 0.9,
          label: (ele) => (zoom() >= SHOW_EDGE_LABELS_ZOOM || ele.hasClass('hl') ? ele.data('label') : ''),
          'font-family': FONT,
          'font-size': () => EDGE_PX / zoom(),
          color: '#3e4c59',
          'text-rotation': 'autorotate',
          'text-background-color': '#fbfcfe',
          'text-background-opacity': 0.9,
          'text-background-padding': () => 1 / zoom(),
        },
      },
      { selector: 'edge[?both]', style: { 'source-arrow-shape': 'triangle' } },
    );
    for (const [rel, s] of Object.entries(relationStyles())) {
      style.push({
        selector: `edge[kind="${rel}"]`,
        style: { 'line-color': s.color, 'target-arrow-color': s.color, 'source-arrow-color': s.color, 'line-style': s.line, width: s.width },
      });
    }
    const path = marks().path;
    style.push({ selector: 'edge.hl', style: { 'line-color': path, 'target-arrow-color': path, 'source-arrow-color': path, width: 4, 'z-index': 9 } });
    return style;
  }

  reset(centreId) {
    this.nodes.clear();
    this.edges.clear();
    this.highlight.clear();
    this.addedBy.clear();
    this.selected = null;
    this.centre = centreId;
    if (this.cy) this.cy.elements().remove();
  }

  /** Adds nodes and edges; returns the ids of the nodes that are new. */
  merge(nodes, edges, anchor) {
    const fresh = [];
    for (const n of nodes) {
      const old = this.nodes.get(n.id);
      if (old) this.nodes.set(n.id, { ...old, ...n, risk: n.risk || old.risk });
      else {
        this.nodes.set(n.id, { ...n });
        fresh.push(n.id);
      }
    }
    for (const e of edges) {
      if (this.nodes.has(e.source) && this.nodes.has(e.target)) this.edges.set(e.id, { ...e });
    }
    if (anchor && fresh.length) {
      const had = this.addedBy.get(anchor) || new Set();
      fresh.forEach((id) => had.add(id));
      this.addedBy.set(anchor, had);
    }
    this.pendingAnchor = anchor;
    return fresh;
  }

  /** Removes what expanding `id` added (and what expanding those added), keeping
   * the centre, the path shown and anything another expansion brought too. */
  collapse(id) {
    const drop = new Set();
    const walk = (nid) => {
      for (const child of this.addedBy.get(nid) || []) {
        if (drop.has(child) || child === this.centre || child === id || this.highlight.has(child)) continue;
        drop.add(child);
        walk(child);
      }
    };
    walk(id);
    for (const [other, kids] of this.addedBy) {
      if (other !== id && !drop.has(other)) for (const k of kids) drop.delete(k);
    }
    for (const nid of drop) {
      this.nodes.delete(nid);
      this.addedBy.delete(nid);
    }
    this.addedBy.delete(id);
    for (const [eid, e] of this.edges) if (!this.nodes.has(e.source) || !this.nodes.has(e.target)) this.edges.delete(eid);
    if (drop.has(this.selected)) this.selected = null;
    return drop.size;
  }

  /** Brings Cytoscape in line with nodes/edges and lays out (`fresh`: from scratch). */
  render({ fresh = false } = {}) {
    const cy = this.ensure();
    const merged = mergeEdges([...this.edges.values()]);
    const anchor = this.pendingAnchor && cy.getElementById(this.pendingAnchor);
    cy.batch(() => {
      cy.nodes().filter((n) => !this.nodes.has(n.id())).remove();
      cy.edges().remove();
      let i = 0;
      for (const n of this.nodes.values()) {
        const data = { id: n.id, type: n.type, risk: n.risk || 'clear', name: n.name, short: short(n.name) };
        const ele = cy.getElementById(n.id);
        if (ele.nonempty()) ele.data(data);
        else {
          // newcomers start around what they were expanded from, on a golden-angle spiral
          const base = anchor && anchor.nonempty() ? anchor.position() : { x: 0, y: 0 };
          const r = 60 + 12 * Math.sqrt(i);
          const added = cy.add({ group: 'nodes', data, position: { x: base.x + r * Math.cos(i * 2.39996), y: base.y + r * Math.sin(i * 2.39996) } });
          added.toggleClass('centre', n.id === this.centre);
          i += 1;
        }
      }
      cy.add(merged.map((e) => ({ group: 'edges', data: { id: e.id, source: e.source, target: e.target, label: e.label, kind: e.kind, both: e.both } })));
      cy.nodes().forEach((n) => {
        n.toggleClass('centre', n.id() === this.centre);
        n.toggleClass('hl', this.highlight.has(n.id()));
      });
      cy.edges().forEach((e) => {
        const m = merged.find((x) => x.id === e.id());
        e.toggleClass('hl', Boolean(m && m.ids.some((id) => this.highlight.has(id))));
      });
    });
    this.pendingAnchor = null;
    this.merged = merged;
    this.layout(fresh);
    this.renderOverlay();
    this.renderEdgeList();
  }

  layout(fresh) {
    const cy = this.cy;
    if (!cy.nodes().length) return;
    const many = cy.nodes().length > 40;
    cy.layout({
      name: window.cytoscapeFcose ? 'fcose' : 'cose',
      quality: 'default',
      randomize: fresh,
      animate: false,
      fit: false,
      nodeDimensionsIncludeLabels: true,
      idealEdgeLength: () => (many ? 95 : 120),
      nodeRepulsion: () => (many ? 12000 : 9000),
      nodeSeparation: 90,
      gravity: 0.3,
      numIter: 2500,
      packComponents: true,
    }).run();
    this.fit();
  }

  fit() {
    const cy = this.cy;
    if (!cy || !cy.nodes().length) return;
    cy.fit(undefined, 36);
    // a small graph is not blown up to fill the canvas
    if (cy.zoom() > 1.6) {
      cy.zoom(1.6);
      cy.center();
    }
    // On a phone the whole graph would be too small to read: keep the labels'
    // zoom and centre on the centre subject; the rest is a pan or a pinch away.
    if (cy.width() < 600 && cy.zoom() < SHOW_ALL_LABELS_ZOOM) {
      cy.zoom(SHOW_ALL_LABELS_ZOOM);
      const centre = this.centre && cy.getElementById(this.centre);
      if (centre && centre.nonempty()) cy.center(centre);
      else cy.center();
    }
    this.scheduleStyle();
  }

  zoomBy(factor) {
    const cy = this.ensure();
    const c = { x: cy.width() / 2, y: cy.height() / 2 };
    cy.zoom({ level: cy.zoom() * factor, renderedPosition: c });
  }

  scheduleStyle() {
    if (this.styleFrame) return;
    this.styleFrame = requestAnimationFrame(() => {
      this.styleFrame = 0;
      if (this.cy) this.cy.style().update();
      this.container.dataset.zoom = this.cy ? this.cy.zoom().toFixed(3) : '1';
    });
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.place();
    });
  }

  renderOverlay() {
    clear(this.layer);
    this.overlay.clear();
    for (const n of this.nodes.values()) {
      const keys = (n.keys || []).map((k) => splitKey(k).join(' ')).join('\n');
      const riskText = label('risk', n.risk || 'clear');
      const el = h('div', {
        testid: 'graph-node',
        class: ['node-hit', n.id === this.centre ? 'centre' : '', n.id === this.selected ? 'selected' : '', this.highlight.has(n.id) ? 'hl' : ''].join(' ').trim(),
        'data-id': n.id,
        'data-type': n.type,
        'data-risk': n.risk || 'clear',
        tabindex: '0',
        role: 'button',
        'aria-label': `${n.name}，${label('subject_types', n.type)}，${riskText}`,
        title: `${n.name}\n${label('subject_types', n.type)} · ${riskText}${n.status ? ` · ${n.status}` : ''}\n${keys}\n（单击查看，双击展开）`,
      });
      el.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter') this.select(n.id);
        else if (ev.key === '+' || ev.key === ' ') {
          ev.preventDefault();
          this.onExpand(n.id);
        } else if (ev.key === '-') this.onCollapse && this.onCollapse(n.id);
      });
      this.layer.append(el);
      this.overlay.set(n.id, el);
    }
    this.place();
  }

  /** Keeps every node's DOM element over its drawn node. */
  place() {
    const cy = this.cy;
    if (!cy) return;
    const zoom = cy.zoom();
    for (const [id, el] of this.overlay) {
      const n = cy.getElementById(id);
      if (n.empty()) continue;
      const p = n.renderedPosition();
      const size = Math.max(n.width() * zoom, MIN_HIT_PX);
      el.style.width = `${size}px`;
      el.style.height = `${size}px`;
      el.style.transform = `translate(${(p.x - size / 2).toFixed(1)}px, ${(p.y - size / 2).toFixed(1)}px)`;
    }
    this.container.dataset.zoom = zoom.toFixed(3);
    const pan = cy.pan();
    this.container.dataset.pan = `${pan.x.toFixed(0)},${pan.y.toFixed(0)}`;
  }

  /** The drawn edges as a list for screen readers (and tests): one item per merged edge. */
  renderEdgeList() {
    const list = clear(this.edgeList);
    for (const e of this.merged || []) {
      const from = this.nodes.get(e.source);
      const to = this.nodes.get(e.target);
      const dates = e.members.map((m) => `${m.valid_from || '?'}—${m.valid_to || '今'}`).join('；');
      list.append(
        h(
          'li',
          {
            testid: 'graph-edge',
            class: this.highlight.size && e.ids.some((id) => this.highlight.has(id)) ? 'hl' : '',
            'data-id': e.ids.join(' '),
            'data-relation': e.relations.join(' '),
            'data-source': e.source,
            'data-target': e.target,
          },
          from ? from.name : e.source,
          e.both ? ' ⇄ ' : ' → ',
          to ? to.name : e.target,
          '：',
          h('span', { class: 'edge-label' }, e.label),
          ` （${dates}）`,
        ),
      );
    }
  }

  select(id) {
    this.selected = id;
    if (this.cy) {
      this.cy.nodes().unselect();
      this.cy.getElementById(id).select();
    }
    for (const [nid, el] of this.overlay) el.classList.toggle('selected', nid === id);
    this.onSelect(id);
    this.onOpen(id);
  }

  exportPng() {
    const cy = this.ensure();
    const uri = cy.png({ output: 'base64uri', bg: '#ffffff', full: false, scale: 2 });
    download(`creditlink-graph-${this.centre || 'empty'}.png`, uri);
  }

  exportJson() {
    const cy = this.ensure();
    const nodes = [...this.nodes.values()].map((n) => ({ ...n, position: cy.getElementById(n.id).position() }));
    const body = {
      centre: this.centre,
      as_of: this.asOf,
      exported_at: new Date().toISOString(),
      nodes,
      edges: [...this.edges.values()],
      drawn_edges: (this.merged || []).map(({ members, ...rest }) => rest),
    };
    const url = URL.createObjectURL(new Blob([JSON.stringify(body, null, 1)], { type: 'application/json' }));
    download(`creditlink-graph-${this.centre || 'empty'}.json`, url);
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

/** The legend: node types (shape), risk (colour, dashes), relation types (line). */
export function legend(root) {
  const swatch = (cls, paint) => {
    const el = h('span', { class: `sw ${cls}` });
    paint(el.style);
    return el;
  };
  const group = (title, items) => h('div', { class: 'legend-group' }, h('strong', {}, title), ...items);
  const item = (sw, text, testid, value) => h('span', { class: 'legend-item', testid, 'data-value': value }, sw, text);
  clear(root).append(
    group('主体', Object.entries(typeStyles()).map(([type, s]) => item(swatch(`node ${s.shape}`, (st) => { st.background = s.fill; }), label('subject_types', type), 'legend-type', type))),
    group(
      '风险',
      Object.entries(riskStyles()).map(([risk, s]) =>
        item(
          swatch('node ellipse', (st) => {
            st.background = s.fill || '#ffffff';
            st.borderColor = risk === 'clear' ? '#9aa8b6' : s.border;
            st.borderStyle = s.dashed ? 'dashed' : 'solid';
          }),
          label('risk', risk),
          'legend-risk',
          risk,
        ),
      ),
    ),
    group(
      '关系',
      Object.entries(relationStyles()).map(([rel, s]) =>
        item(
          swatch('line', (st) => {
            st.borderTopColor = s.color;
            st.borderTopStyle = s.line;
            st.borderTopWidth = `${Math.max(2, Math.round(s.width))}px`;
          }),
          label('relation_types', rel),
          'legend-relation',
          rel,
        ),
      ),
    ),
  );
}
