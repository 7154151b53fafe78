// DOM building for data that departments typed: text goes in through
// textContent (text nodes) and attributes through setAttribute, never through
// innerHTML, so a name such as "<script>…" stays a name.

const SVG_NS = 'http://www.w3.org/2000/svg';

function apply(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'testid') el.setAttribute('data-testid', String(v));
    else if (k === 'class') el.setAttribute('class', String(v));
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k.startsWith('on') || k === 'style') throw new Error(`refusing attribute ${k}`);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function add(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** h('td', {class: 'x'}, 'text', otherNode) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  add(el, children);
  return el;
}

export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  add(el, children);
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export const $ = (testid, root = document) => root.querySelector(`[data-testid="${testid}"]`);
