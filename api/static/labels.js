// Chinese labels for the codes the API returns, read from GET /model: one table
// that the server assembles from graph/model.yaml, graph/rules.yaml,
// graph/labels.yaml and the feed mappings. This file keeps no copy of it. Until
// the table is loaded (no key yet) or for a code it lacks, a code shows as it is.

import { api } from './api.js';

let vocab = {};
let loading = null;

/** Loads the table (needs a key); failures leave the codes showing. */
export function loadVocabulary() {
  loading = api('/model')
    .then((data) => {
      vocab = data || {};
    })
    .catch(() => {
      vocab = {};
    });
  return loading;
}

/** Resolves once the last requested load is done, so that answers render with labels. */
export const vocabularyReady = () => loading || Promise.resolve();

export const vocabulary = () => vocab;

function entry(table, code) {
  const t = vocab[table] || {};
  const v = t[code];
  return v && typeof v === 'object' ? v.label : v;
}

/** The label of `code` in one of /model's tables, else the code itself. */
export function label(table, code) {
  if (code === undefined || code === null || code === '') return '';
  return entry(table, code) || String(code);
}

/** The relation types the model declares (for the graph's filter), in model order. */
export const relationTypes = () => Object.keys(vocab.relation_types || {});

export const isPunitiveKind = (kind) => Boolean((vocab.listing_kinds || {})[kind]?.punitive);

/** Feed (records) or listing kind: the feed's label first, then the model's. */
export const feedLabel = (code) => entry('feeds', code) || label('listing_kinds', code);

/** A role as a rule or a record names it; officer titles (董事长) are already Chinese. */
export const roleLabel = (code) => entry('roles', code) || label('relation_types', code);

export function attributeLabel(code) {
  return label('attributes', code);
}

export const hiddenAttribute = (code) => (vocab.hidden_attributes || []).includes(code);

/** A coded attribute value (sex: female → 女); other values as they are. */
export function attributeValue(code, value) {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => attributeValue(code, v)).join('、');
  if (typeof value === 'object') return JSON.stringify(value);
  const table = (vocab.values || {})[code] || {};
  return table[String(value)] || String(value);
}

/** "uscc:9141…" → ["统一社会信用代码", "9141…"] */
export function splitKey(key) {
  const text = String(key);
  const i = text.indexOf(':');
  if (i < 0) return ['', text];
  return [label('key_kinds', text.slice(0, i)), text.slice(i + 1)];
}
