// The relation graph: a small force layout (repulsion between every pair of
// nodes, springs along edges, a pull toward the centre) and an SVG drawing.
// Graphs here are a few hundred nodes at most (the API caps them), so the
// O(n²) repulsion is cheap and exact; no quadtree is needed.

import { svg, clear } from './dom.js';
import { RELATIONS, TYPES, label, splitKey } from './labels.js';

const RADIUS = { organisation: 13, person: 10 };
const SPRING_LENGTH = 150;
const SPRING_K = 0.05;
const REPULSION = 14000;
const GRAVITY = 0.012;
const DAMPING = 0.82;

function short(text, n = 12) {
  const s = String(text ?? '');
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

export function edgeLabel(e) {
  let text = label(RELATIONS, e.relation);
  if (e.relation === 'shareholder' && typeof e.share === 'number') {
    text += ` ${Math.round(e.share * 1000) / 10}%`;
  } else if (e.role && e.role !== text && e.role !== e.relation) {
    text += `·${e.role}`;
  }
  return text;
}

export class Graph {
  constructor(canvas, { onOpen, onExpand }) {
    this.canvas = canvas;
    this.onOpen = onOpen;
    this.onExpand = onExpand;
    this.nodes = new Map();
    this.edges = new Map();
    this.centre = null;
    this.selected = null;
    this.highlight = new Set();
    this.drag = null;
  }

  reset(centreId) {
    this.nodes.clear();
    this.edges.clear();
    this.highlight.clear();
    this.centre = centreId;
  }

  /** Adds nodes and edges; new nodes start in a ring around `anchor` (or their first known neighbour). */
  merge(nodes, edges, anchor) {
    const fresh = [];
    for (const n of nodes) {
      const old = this.nodes.get(n.id);
      if (old) Object.assign(old, { ...n, x: old.x, y: old.y });
      else {
        const node = { ...n, x: 0, y: 0, vx: 0, vy: 0 };
        this.nodes.set(n.id, node);
        fresh.push(node);
      }
    }
    for (const e of edges) {
      if (this.nodes.has(e.source) && this.nodes.has(e.target)) this.edges.set(e.id, { ...e });
    }
    // Place each newcomer near something already placed, on a golden-angle
    // spiral: deterministic, and no two newcomers start on the same spot.
    const placed = new Set([...this.nodes.keys()].filter((id) => !fresh.some((f) => f.id === id)));
    fresh.forEach((node, i) => {
      let base = anchor && placed.has(anchor) ? this.nodes.get(anchor) : null;
      if (!base) {
        for (const e of this.edges.values()) {
          const other = e.source === node.id ? e.target : e.target === node.id ? e.source : null;
          if (other && placed.has(other)) {
            base = this.nodes.get(other);
            break;
          }
        }
      }
      const angle = i * 2.39996;
      const r = 60 + 14 * Math.sqrt(i);
      node.x = (base ? base.x : 0) + r * Math.cos(angle);
      node.y = (base ? base.y : 0) + r * Math.sin(angle);
    });
    return fresh.length;
  }

  layout(iterations = 300) {
    const list = [...this.nodes.values()];
    const index = new Map(list.map((n, i) => [n.id, i]));
    const links = [...this.edges.values()]
      .map((e) => [index.get(e.source), index.get(e.target)])
      .filter(([a, b]) => a !== undefined && b !== undefined && a !== b);
    const n = list.length;
    for (let step = 0; step < iterations; step++) {
      // the cap on a step shrinks as the layout cools, so it settles instead of jittering
      const maxStep = 40 * (1 - step / iterations) + 1;
      const fx = new Float64Array(n);
      const fy = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const a = list[i];
        for (let j = i + 1; j < n; j++) {
          const b = list[j];
          let dx = a.x - b.x;
          let dy = a.y - b.y;
          let d2 = dx * dx + dy * dy;
          if (d2 < 1) {
            // coincident nodes: push apart along a fixed direction per pair
            dx = ((i * 7 + j * 13) % 11) - 5 || 1;
            dy = ((i * 5 + j * 3) % 7) - 3 || 1;
            d2 = dx * dx + dy * dy;
          }
          const d = Math.sqrt(d2);
          const f = REPULSION / d2;
          fx[i] += (f * dx) / d;
          fy[i] += (f * dy) / d;
          fx[j] -= (f * dx) / d;
          fy[j] -= (f * dy) / d;
        }
      }
      for (const [i, j] of links) {
        const a = list[i];
        const b = list[j];
        const dx = b.x - a.x;
        const dy = b.y - a.y;
        const d = Math.sqrt(dx * dx + dy * dy) || 1;
        const f = SPRING_K * (d - SPRING_LENGTH);
        fx[i] += (f * dx) / d;
        fy[i] += (f * dy) / d;
        fx[j] -= (f * dx) / d;
        fy[j] -= (f * dy) / d;
      }
      for (let i = 0; i < n; i++) {
        const p = list[i];
        if (this.drag && this.drag.id === p.id) continue;
        p.vx = (p.vx + fx[i] - GRAVITY * p.x) * DAMPING;
        p.vy = (p.vy + fy[i] - GRAVITY * p.y) * DAMPING;
        const v = Math.hypot(p.vx, p.vy);
        if (v > maxStep) {
          p.vx = (p.vx / v) * maxStep;
          p.vy = (p.vy / v) * maxStep;
        }
        p.x += p.vx;
        p.y += p.vy;
      }
    }
  }

  fit() {
    const list = [...this.nodes.values()];
    if (!list.length) {
      this.canvas.removeAttribute('viewBox');
      return;
    }
    const xs = list.map((n) => n.x);
    const ys = list.map((n) => n.y);
    const pad = 70;
    const minX = Math.min(...xs) - pad;
    const minY = Math.min(...ys) - pad;
    const w = Math.max(Math.max(...xs) - Math.min(...xs) + 2 * pad, 300);
    const hgt = Math.max(Math.max(...ys) - Math.min(...ys) + 2 * pad, 220);
    this.canvas.setAttribute('viewBox', `${minX} ${minY} ${w} ${hgt}`);
  }

  render() {
    const c = clear(this.canvas);
    this.fit();
    c.append(
      svg(
        'defs',
        {},
        svg(
          'marker',
          { id: 'arrow', viewBox: '0 0 10 10', refX: '10', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' },
          svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }),
        ),
      ),
    );
    const edgeLayer = svg('g', { class: 'edges' });
    const nodeLayer = svg('g', { class: 'nodes' });
    // parallel edges between one pair get their labels stacked, not overprinted
    const pairCount = new Map();
    this.edgeEls = new Map();
    for (const e of this.edges.values()) {
      const pair = [e.source, e.target].sort().join('|');
      const k = pairCount.get(pair) || 0;
      pairCount.set(pair, k + 1);
      const line = svg('line', { class: 'edge-line', 'marker-end': 'url(#arrow)' });
      const text = svg('text', { class: 'edge-label', 'text-anchor': 'middle' }, edgeLabel(e));
      const title = svg(
        'title',
        {},
        `${label(RELATIONS, e.relation)} (${e.relation})${e.role ? ` ${e.role}` : ''}\n` +
          `${e.valid_from || '?'} — ${e.valid_to || '至今'}\n记录: ${(e.records || []).join(', ')}`,
      );
      const g = svg(
        'g',
        {
          testid: 'graph-edge',
          class: `edge rel-${e.relation}${this.highlight.has(e.id) ? ' hl' : ''}`,
          'data-id': e.id,
          'data-relation': e.relation,
          'data-source': e.source,
          'data-target': e.target,
        },
        title,
        line,
        text,
      );
      edgeLayer.append(g);
      this.edgeEls.set(e.id, { line, text, offset: k });
    }
    this.nodeEls = new Map();
    for (const n of this.nodes.values()) {
      const r = RADIUS[n.type] || 10;
      const keys = (n.keys || []).map((k) => splitKey(k).join(' ')).join('\n');
      const cls = [
        'node',
        n.type === 'person' ? 'person' : 'org',
        n.id === this.centre ? 'centre' : '',
        n.id === this.selected ? 'selected' : '',
        this.highlight.has(n.id) ? 'hl' : '',
      ].join(' ');
      const g = svg(
        'g',
        { testid: 'graph-node', class: cls, 'data-id': n.id, 'data-type': n.type, tabindex: '0' },
        svg('title', {}, `${n.name}\n${label(TYPES, n.type)}${n.status ? ` · ${n.status}` : ''}\n${keys}\n（单击查看，双击展开）`),
        svg('circle', { r }),
        svg('text', { class: 'node-label', 'text-anchor': 'middle', y: String(r + 14) }, short(n.name)),
      );
      this.bindNode(g, n);
      nodeLayer.append(g);
      this.nodeEls.set(n.id, g);
    }
    c.append(edgeLayer, nodeLayer);
    this.place();
  }

  /** Moves the drawn elements to the nodes' coordinates (also while dragging). */
  place() {
    for (const [id, g] of this.nodeEls) {
      const n = this.nodes.get(id);
      g.setAttribute('transform', `translate(${n.x.toFixed(1)},${n.y.toFixed(1)})`);
    }
    for (const [id, el] of this.edgeEls) {
      const e = this.edges.get(id);
      const a = this.nodes.get(e.source);
      const b = this.nodes.get(e.target);
      const dx = b.x - a.x;
      const dy = b.y - a.y;
      const d = Math.hypot(dx, dy) || 1;
      // stop the line at the circles' rims so that the arrowhead shows
      const ra = (RADIUS[a.type] || 10) + 1;
      const rb = (RADIUS[b.type] || 10) + 3;
      el.line.setAttribute('x1', (a.x + (dx * ra) / d).toFixed(1));
      el.line.setAttribute('y1', (a.y + (dy * ra) / d).toFixed(1));
      el.line.setAttribute('x2', (b.x - (dx * rb) / d).toFixed(1));
      el.line.setAttribute('y2', (b.y - (dy * rb) / d).toFixed(1));
      el.text.setAttribute('x', ((a.x + b.x) / 2).toFixed(1));
      el.text.setAttribute('y', ((a.y + b.y) / 2 - 4 + el.offset * 13).toFixed(1));
    }
  }

  bindNode(g, n) {
    g.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      this.drag = { id: n.id, x: ev.clientX, y: ev.clientY, moved: false };
      g.setPointerCapture(ev.pointerId);
    });
    g.addEventListener('pointermove', (ev) => {
      if (!this.drag || this.drag.id !== n.id) return;
      if (!this.drag.moved && Math.hypot(ev.clientX - this.drag.x, ev.clientY - this.drag.y) < 4) return;
      this.drag.moved = true;
      const ctm = this.canvas.getScreenCTM();
      if (!ctm) return;
      const p = new DOMPoint(ev.clientX, ev.clientY).matrixTransform(ctm.inverse());
      n.x = p.x;
      n.y = p.y;
      this.place();
    });
    const end = () => {
      const moved = this.drag && this.drag.moved;
      this.drag = null;
      return moved;
    };
    g.addEventListener('pointerup', (ev) => {
      // a drag is not a click: the node stays where it was dropped
      if (end()) ev.stopPropagation();
      else this.select(n.id);
    });
    g.addEventListener('pointercancel', end);
    g.addEventListener('dblclick', () => this.onExpand(n.id));
    g.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') this.select(n.id);
      if (ev.key === '+' || ev.key === ' ') {
        ev.preventDefault();
        this.onExpand(n.id);
      }
    });
  }

  select(id) {
    if (this.selected !== id) {
      this.selected = id;
      for (const [nid, g] of this.nodeEls || []) g.classList.toggle('selected', nid === id);
    }
    this.onOpen(id);
  }
}
