// The investigator page: search, subject card, relation graph, path finder and
// review queue over the creditlink API. Every value from the API is rendered
// as text (dom.js); nothing is parsed as HTML. Labels come from GET /model.

import { api, ApiError, clearKey, endpoints, getKey, setKey } from './api.js';
import { $, clear, h } from './dom.js';
import { Graph, edgeLabel, legend, mergeEdges } from './graph.js';
import {
  attributeLabel,
  attributeValue,
  feedLabel,
  hiddenAttribute,
  isPunitiveKind,
  label,
  loadVocabulary,
  relationTypes,
  vocabularyReady,
  roleLabel,
  splitKey,
} from './labels.js';

const state = { paths: new Set(), names: new Map(), card: null, graph: null, selected: null };

// -- small helpers -------------------------------------------------------------

const asOf = () => $('as-of-input').value || undefined;

function remember(summary) {
  if (summary && summary.id && summary.name) state.names.set(summary.id, summary.name);
}

function nameOf(id, name) {
  if (name) state.names.set(id, name);
  return name || state.names.get(id) || id;
}

function showError(err) {
  const banner = $('error-banner');
  let text = err instanceof Error ? err.message : String(err);
  if (err instanceof ApiError) {
    if (err.status === 401) text = `API 密钥无效或已吊销 (401 unauthorized): ${err.message}`;
    else if (err.status === 403) text = `当前角色无此权限 (403 forbidden): ${err.message}`;
    else if (err.status) text = `${err.status} ${err.code}: ${err.message}`;
  }
  $('error-message').textContent = text;
  banner.hidden = false;
}

function hideError() {
  $('error-banner').hidden = true;
}

function notice(text) {
  const el = $('notice');
  el.textContent = text;
  el.hidden = !text;
}

/** Runs an action triggered by the user, with the banner cleared before and filled on failure. */
async function act(fn) {
  hideError();
  try {
    await vocabularyReady();
    return await fn();
  } catch (err) {
    showError(err);
    return undefined;
  }
}

/** A clickable subject name that opens its card. */
function subjectLink(id, name, testid = 'subject-link') {
  return h(
    'button',
    { type: 'button', class: 'link', testid, 'data-id': id, title: `${id}（查看主体卡片 open card）`, onclick: () => openCard(id) },
    nameOf(id, name),
  );
}

function riskBadge(risk, testid) {
  if (!risk) return null;
  return h('span', { class: `risk risk-${risk}`, testid, 'data-risk': risk, title: `risk: ${risk}` }, label('risk', risk));
}

function keyList(keys, testid) {
  return h(
    'ul',
    { class: 'keys', testid },
    (keys || []).map((k) => {
      const [kind, value] = splitKey(k);
      return h('li', { testid: 'subject-key', title: k }, h('span', { class: 'key-kind' }, kind), ' ', h('code', {}, value));
    }),
  );
}

function dates(from, to) {
  return `${from || '?'} 至 ${to || '今'}`;
}

function table(testid, head, rows) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'grid', testid },
      h('thead', {}, h('tr', {}, head.map(([zh, en, cls]) => h('th', { title: en, class: cls }, zh)))),
      h('tbody', {}, rows),
    ),
  );
}

function section(title, en, testid, ...body) {
  return h('section', { class: 'card-section', testid }, h('h3', { title: en }, title), ...body);
}

function recordIds(ids) {
  return h('span', { class: 'records' }, (ids || []).map((r) => h('code', { class: 'rec', title: '来源记录 source record' }, r)));
}

// -- key -------------------------------------------------------------------------

function showKeyStatus() {
  const status = $('api-key-status');
  status.textContent = getKey() ? '已设置（仅本标签页）' : '未设置';
  status.title = getKey() ? 'Key set for this tab only' : 'No key set';
  status.classList.toggle('ok', Boolean(getKey()));
  $('api-key-help').hidden = Boolean(getKey());
}

/** With a key: the label table, then what depends on it (relation filter, legend). */
async function withVocabulary() {
  if (!getKey()) return;
  await loadVocabulary();
  // the type filter names the types as the model does, like every other label
  for (const option of $('search-type').options) if (option.value) option.textContent = label('subject_types', option.value);
  bindRelationFilter();
  legend($('graph-legend'));
}

function bindKey() {
  document.getElementById('key-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const input = $('api-key-input');
    const key = input.value.trim();
    if (!key) return;
    setKey(key);
    input.value = '';
    hideError();
    showKeyStatus();
    await withVocabulary();
  });
  $('api-key-clear').addEventListener('click', () => {
    clearKey();
    showKeyStatus();
  });
  showKeyStatus();
}

// -- search ----------------------------------------------------------------------

async function search() {
  const q = $('search-input').value.trim();
  if (!q) return;
  const list = clear($('search-results'));
  $('search-summary').textContent = '检索中…';
  await act(async () => {
    const data = await api('/subjects/search', { params: { q, type: $('search-type').value, limit: 50 } });
    const how = data.match === 'key' ? '代码精确匹配' : '名称相似度排序';
    $('search-summary').textContent =
      `共 ${data.total} 个结果（${how}）${data.candidates_capped ? '，候选过多，请缩小检索词' : ''}`;
    for (const r of data.results) {
      remember(r);
      list.append(
        h(
          'li',
          { testid: 'search-result', class: 'result', 'data-id': r.id },
          h(
            'div',
            { class: 'result-head' },
            subjectLink(r.id, r.name, 'search-result-name'),
            h('span', { class: `badge ${r.type}`, testid: 'search-result-type', title: r.type }, label('subject_types', r.type)),
            h('span', { class: 'score', testid: 'search-result-score', title: 'similarity score 0–100' }, Number(r.score).toFixed(1)),
          ),
          r.matched_name && r.matched_name !== r.name
            ? h('div', { class: 'muted small' }, '匹配名称：', r.matched_name)
            : null,
          keyList(r.keys, 'search-result-keys'),
          h(
            'div',
            { class: 'actions' },
            h('button', { type: 'button', testid: 'search-result-graph', onclick: () => drawGraph(r.id) }, '绘制图谱'),
          ),
        ),
      );
    }
    if (!data.results.length) list.append(h('li', { class: 'muted' }, '没有找到主体 (no subject found)'));
  });
  if (!list.children.length) $('search-summary').textContent = '';
}

// -- subject card ----------------------------------------------------------------

async function openCard(id) {
  const card = $('subject-card');
  card.hidden = false;
  if (state.card === id && card.dataset.id === id) return;
  state.card = id;
  await act(async () => {
    const params = { as_of: asOf() };
    const key = encodeURIComponent(id);
    const optional = (path, url, extra) =>
      state.paths.has(path) ? api(url, { params: { ...params, ...extra } }).catch((e) => e) : null;
    const [subject, listings, measures, hood] = await Promise.all([
      api(`/subjects/${key}`),
      optional('/subjects/{key}/listings', `/subjects/${key}/listings`),
      optional('/subjects/{key}/measures', `/subjects/${key}/measures`),
      optional('/subjects/{key}/neighbors', `/subjects/${key}/neighbors`, { depth: 1 }),
    ]);
    if (state.card !== id) return; // another card was asked for meanwhile
    remember(subject);
    renderCard(subject, listings, measures, hood);
  }).catch(() => {});
  if (state.card === id && card.dataset.id !== id) state.card = null;
}

function summaryLine(measures, listings) {
  const risk = measures && !(measures instanceof Error) ? measures.risk : null;
  const parts = [];
  if (risk) {
    const n = risk.punitive.length;
    const m = risk.review.length;
    parts.push(
      h('strong', {}, '风险：'),
      n ? h('span', { class: 'st-active' }, `${n} 项惩戒措施`) : h('span', {}, '无惩戒措施'),
      m ? h('span', { class: 'flag-text' }, ` · ${m} 项关注提示`) : null,
    );
  }
  if (listings && !(listings instanceof Error)) {
    const active = listings.listings.filter((l) => l.dates.status === 'active');
    const punitive = active.filter((l) => isPunitiveKind(l.feed)).length;
    const rewards = active.length - punitive;
    parts.push(h('span', { class: 'muted' }, ` · 有效名单/处罚 ${punitive} 条`), rewards ? h('span', { class: 'ok-text' }, ` · 守信激励/许可 ${rewards} 条`) : null);
  }
  return h('p', { class: 'summary', testid: 'subject-summary', 'data-risk': risk ? risk.level : '' }, parts, risk ? h('span', { class: 'muted small' }, `（${measures.as_of}）`) : null);
}

function renderCard(s, listings, measures, hood) {
  const card = clear($('subject-card'));
  card.dataset.id = s.id;
  const risk = measures && !(measures instanceof Error) ? measures.risk.level : null;
  const attrs = Object.entries(s.attributes || {}).filter(([k]) => !hiddenAttribute(k));
  // through h(): it drops the sections that are absent (null), which append() would print
  card.append(h('div', { class: 'card-body' },
    h(
      'header',
      { class: 'card-head' },
      h('h2', { testid: 'subject-name', class: 'subject-name' }, s.name),
      h('span', { class: `badge ${s.type}`, testid: 'subject-type', title: s.type }, label('subject_types', s.type)),
      riskBadge(risk, 'subject-risk'),
      s.status ? h('span', { class: 'badge status', testid: 'subject-status', title: 'registration status' }, s.status) : null,
      h(
        'span',
        { class: 'actions' },
        h('button', { type: 'button', testid: 'card-graph', title: 'Draw the graph around this subject', onclick: () => drawGraph(s.id) }, '绘制图谱'),
        h('button', { type: 'button', testid: 'card-path-from', title: 'Use as path start', onclick: () => { $('path-from').value = s.id; } }, '设为起点'),
        h('button', { type: 'button', testid: 'card-path-to', title: 'Use as path end', onclick: () => { $('path-to').value = s.id; } }, '设为终点'),
      ),
    ),
    summaryLine(measures, listings),
    h('div', { class: 'idline' }, keyList(s.keys, 'subject-keys'), h('code', { class: 'muted small', testid: 'subject-id', title: 'subject id' }, s.id)),
    renderMeasures(measures),
    renderListings(listings),
    renderRelations(s.id, hood),
    section(
      '基本信息',
      'Attributes',
      'subject-attributes',
      attrs.length
        ? h('dl', { class: 'attrs' }, attrs.map(([k, v]) => [h('dt', { title: k }, attributeLabel(k)), h('dd', {}, attributeValue(k, v))]))
        : h('p', { class: 'muted' }, '无'),
    ),
    section(
      '名称及来源',
      'Names and the records that carry them',
      'subject-names',
      h('ul', { class: 'names' }, (s.names || []).map((n) => h('li', { testid: 'subject-name-item' }, h('strong', {}, n.name), ' ', recordIds(n.sources)))),
    ),
    renderRecords(s),
    s.judgements && s.judgements.length
      ? section(
          '人工复核记录',
          'Judgements',
          'subject-judgements',
          h('ul', {}, s.judgements.map((j) => h('li', {}, `${j.at || ''} ${j.kind || ''} ${j.by || ''} ${j.note || ''}`))),
        )
      : null,
  ));
}

function renderRecords(s) {
  const records = s.records || [];
  return h(
    'details',
    { class: 'card-section records-details', testid: 'subject-records' },
    h('summary', { title: 'Records merged into this subject, with how each matched' }, `来源记录（${records.length} 条，点击展开）`),
    table(
      'subject-records-table',
      [['记录编号', 'record id'], ['数据来源', 'feed'], ['角色', 'role'], ['记录中的名称', 'name as recorded', 'wide'], ['匹配方式', 'match method'], ['匹配依据/得分', 'key or score'], ['加载时间', 'loaded at']],
      records.map((r) => {
        const m = r.match || {};
        const basis = m.score !== undefined ? `得分 ${m.score}` : m.key || m.judgement || m.reason || '';
        return h(
          'tr',
          { testid: 'subject-record', 'data-id': r.id },
          h('td', {}, h('code', { testid: 'record-id' }, r.id)),
          h('td', { title: `${r.file} 第 ${r.row} 行` }, feedLabel(r.feed)),
          h('td', { title: r.role }, roleLabel(r.role)),
          h('td', { class: 'wide' }, r.name ?? ''),
          h('td', { testid: 'record-match', title: m.method || '' }, label('match_methods', m.method)),
          h('td', {}, String(basis), r.warnings && r.warnings.length ? h('div', { class: 'warn' }, r.warnings.join('; ')) : null),
          h('td', { class: 'small' }, r.loaded_at || ''),
        );
      }),
    ),
  );
}

function sectionError(title, en, testid, err) {
  return section(title, en, testid, h('p', { class: 'warn' }, err instanceof ApiError ? `${err.status} ${err.message}` : String(err)));
}

const LISTING_PROPS = ['severity', 'list_type', 'violation_type', 'category', 'reason', 'nature', 'content', 'fine'];

function listingProps(l) {
  const props = l.props || {};
  return LISTING_PROPS.filter((k) => props[k] !== undefined && props[k] !== null && props[k] !== '')
    .map((k) => h('div', { class: 'small' }, h('span', { class: 'muted' }, `${label('properties', k)}：`), String(props[k])));
}

function renderListings(data) {
  if (data === null) return null;
  if (data instanceof Error) return sectionError('名单及处罚', 'Listings', 'subject-listings', data);
  return section(
    `名单、处罚、许可及红名单（${data.listings.length}）`,
    `Listings with their status on ${data.as_of}`,
    'subject-listings',
    data.listings.length
      ? table(
          'subject-listings-table',
          [['类别', 'kind'], ['文号 / 部门', 'number / department', 'wide'], ['起止', 'dates'], ['状态', `status on ${data.as_of}`], ['内容 / 来源记录', 'details / records', 'wide']],
          data.listings.map((l) => {
            const reward = !isPunitiveKind(l.feed);
            return h(
              'tr',
              { testid: 'subject-listing', 'data-id': l.id, 'data-kind': l.feed, class: reward ? 'kind-reward' : 'kind-punitive' },
              h('td', { title: l.feed }, h('span', { class: `kind-badge ${reward ? 'reward' : 'punitive'}` }, feedLabel(l.feed))),
              h('td', { class: 'wide' }, h('div', {}, l.number || '—'), h('div', { class: 'muted small' }, l.department || '')),
              h('td', { class: 'nowrap' }, dates(l.dates.start, l.dates.end)),
              h(
                'td',
                { testid: 'listing-status', class: `st-${l.dates.status}${reward ? ' reward' : ''}`, title: l.dates.reason || l.dates.status },
                label('listing_statuses', l.dates.status),
                l.dates.until ? h('div', { class: 'small' }, `至 ${l.dates.until}`) : '',
              ),
              h('td', { class: 'wide' }, listingProps(l), recordIds(l.record)),
            );
          }),
        )
      : h('p', { class: 'muted' }, '无'),
  );
}

/** A measure's path as a chain of names: listed subject —relation (dates)→ … → this subject. */
function pathChain(path) {
  const items = [];
  path.forEach((p, i) => {
    if (i === 0) items.push(h('li', { class: 'chain-node' }, subjectLink(p.from, p.from_name)));
    const rel = label('relation_types', p.relation);
    const role = p.role && p.role !== p.relation ? roleLabel(p.role) : '';
    const title = p.title && p.title !== rel ? p.title : '';
    // how the role's time was known on the day the rule reads it (dated, snapshot, named…)
    const time = p.time ? `${label('role_time_states', p.time.state)} · ${label('role_time_sources', p.time.source)}` : '';
    items.push(
      h(
        'li',
        { class: 'chain-link', title: `记录 ${(p.records || []).join(', ')}${p.read_at ? `；按 ${p.read_at} 判断` : ''}` },
        h('span', { class: 'rel' }, `${rel}${title ? `·${title}` : ''}${role && role !== rel ? `（${role}）` : ''}`),
        h('span', { class: 'muted small' }, dates(p.valid_from, p.valid_to)),
        time ? h('span', { class: 'muted small', testid: 'hop-time' }, time) : null,
      ),
      h('li', { class: 'chain-node' }, subjectLink(p.to, p.to_name)),
    );
  });
  return h('ol', { class: 'chain', testid: 'measure-path' }, items);
}

function renderMeasures(data) {
  if (data === null) return null;
  if (data instanceof Error) return sectionError('惩戒/激励措施', 'Measures', 'subject-measures', data);
  // one block per listing; inside it one line per (rule, role, path), its measures as chips
  const groups = new Map();
  for (const m of data.measures) {
    if (!groups.has(m.listing.id)) groups.set(m.listing.id, { listing: m.listing, lines: new Map() });
    const key = [m.rule, m.role || '', (m.path || []).map((p) => p.relation_id).join('>')].join('|');
    const lines = groups.get(m.listing.id).lines;
    if (!lines.has(key)) lines.set(key, []);
    lines.get(key).push(m);
  }
  const blocks = [...groups.values()].map(({ listing, lines }) => {
    const all = [...lines.values()].flat();
    const punitive = all.some((m) => m.punitive);
    const st = listing.dates || {};
    return h(
      'article',
      { class: `mgroup ${punitive ? 'punitive' : 'flag'}`, testid: 'measure-group', 'data-listing': listing.id },
      h(
        'header',
        { class: 'mgroup-head' },
        h('strong', { title: listing.feed }, feedLabel(listing.feed)),
        listing.number ? h('span', {}, listing.number) : null,
        listing.department ? h('span', { class: 'muted' }, listing.department) : null,
        h('span', { class: 'muted small' }, `${dates(st.start, st.end)} · ${label('listing_statuses', st.status)}${st.until ? `（至 ${st.until}）` : ''}`),
      ),
      h('div', { class: 'small' }, '列入主体：', subjectLink(listing.subject, listing.subject_name), ' ', recordIds(listing.record)),
      [...lines.values()].map((ms) => {
        const m = ms[0];
        return h(
          'div',
          { class: 'mline' },
          h(
            'div',
            { class: 'mline-head' },
            h('span', { testid: 'measure-rule', 'data-rule': m.rule, class: 'rule', title: m.rule }, label('rules', m.rule)),
            h('span', { class: 'badge', title: m.direct ? 'direct: own listing' : 'propagated through a related party' }, m.direct ? '直接' : '关联传导'),
            m.role ? h('span', { class: 'badge', title: m.role }, `角色：${roleLabel(m.role)}`) : null,
            m.reason ? h('span', { class: 'badge flag-text', title: m.reason, testid: 'measure-reason' }, label('review_reasons', m.reason)) : null,
          ),
          h(
            'div',
            { class: 'chips' },
            ms.map((x) =>
              h(
                'span',
                { testid: 'subject-measure', 'data-measure': x.measure, class: `chip ${x.punitive ? 'punitive' : 'flag'}`, title: `${x.measure}${x.until ? `，至 ${x.until}` : ''}` },
                label('measures', x.measure) || x.label,
                x.until ? h('span', { class: 'until' }, ` 至 ${x.until}`) : null,
              ),
            ),
          ),
          h('div', { class: 'small basis', testid: 'measure-basis' }, '依据：', m.basis || '—'),
          m.path && m.path.length ? pathChain(m.path) : null,
        );
      }),
    );
  });
  return section(
    `适用的联合奖惩措施（${data.measures.length} 项，${groups.size} 个名单）`,
    `Measures that apply on ${data.as_of}, grouped by listing, with rule, legal basis and path`,
    'subject-measures',
    blocks.length ? blocks : h('p', { class: 'muted' }, '无'),
  );
}

function renderRelations(id, hood) {
  if (hood === null) return null;
  if (hood instanceof Error) return sectionError('关联主体', 'Relations', 'subject-relations', hood);
  const nodes = new Map(hood.nodes.map((n) => [n.id, n]));
  const merged = mergeEdges(hood.edges);
  return section(
    `关联主体（${merged.length}）`,
    `Subjects related on ${hood.as_of}`,
    'subject-relations',
    merged.length
      ? h(
          'ul',
          { class: 'relations-list' },
          merged.map((e) => {
            const other = e.source === id ? e.target : e.source;
            const n = nodes.get(other) || { id: other };
            const outward = e.source === id;
            return h(
              'li',
              { testid: 'subject-relation', 'data-id': other, 'data-relation': e.relations.join(' ') },
              subjectLink(other, n.name),
              ' ',
              riskBadge(n.risk, 'relation-risk'),
              ' ',
              h('span', { class: 'rel' }, `${outward ? '→' : '←'} ${e.members.map(edgeLabel).filter((x, i, a) => a.indexOf(x) === i).join(' / ')}`),
              ' ',
              h('span', { class: 'muted small' }, e.members.map((m) => dates(m.valid_from, m.valid_to)).filter((x, i, a) => a.indexOf(x) === i).join('；')),
            );
          }),
        )
      : h('p', { class: 'muted' }, '无'),
  );
}

// -- graph -----------------------------------------------------------------------

function relationFilter() {
  return [...document.querySelectorAll('[data-testid="graph-relation"]:checked')].map((c) => c.value);
}

function bindRelationFilter() {
  const box = clear($('graph-relations'));
  box.append(h('legend', { title: 'Relation types' }, '关系'));
  for (const code of relationTypes()) {
    box.append(
      h('label', { title: code }, h('input', { type: 'checkbox', testid: 'graph-relation', value: code, checked: true }), label('relation_types', code)),
    );
  }
}

async function fetchNeighbours(id, depth) {
  const all = relationTypes();
  const chosen = relationFilter();
  // all boxes ticked means "every type", including types this page has no label for
  const relation = chosen.length === all.length ? undefined : chosen;
  if (relation && !relation.length) throw new ApiError(0, 'no_relation', '请至少选择一种关系类型');
  return api(`/subjects/${encodeURIComponent(id)}/neighbors`, { params: { depth, relation, as_of: asOf() } });
}

function graphSummary(extra = '') {
  const g = state.graph;
  const count = { listed: 0, implicated: 0, review: 0 };
  for (const n of g.nodes.values()) if (n.risk in count) count[n.risk] += 1;
  const risks = Object.entries(count)
    .filter(([, v]) => v)
    .map(([k, v]) => `${label('risk', k)} ${v}`)
    .join('，');
  $('graph-summary').textContent =
    `${g.nodes.size} 个主体${risks ? `（${risks}）` : ''}，${g.edges.size} 条关系${extra}。单击节点查看主体，双击展开；滚轮或双指缩放，拖动空白处平移。`;
}

function selectNode(id) {
  state.selected = id;
  $('graph-expand').disabled = !id;
  $('graph-collapse').disabled = !id || !state.graph.addedBy.has(id);
}

async function drawGraph(id) {
  const target = id || state.graph.centre;
  if (!target) return;
  await act(async () => {
    const data = await fetchNeighbours(target, Number($('graph-depth').value));
    const g = state.graph;
    g.reset(data.center.id);
    g.asOf = data.as_of;
    data.nodes.forEach(remember);
    g.merge(data.nodes, data.edges, null);
    g.render({ fresh: true });
    selectNode(null);
    graphSummary(data.truncated ? `（已截断：最多 ${data.max_nodes} 个）` : '');
    $('graph-panel').scrollIntoView({ block: 'nearest' });
  });
}

async function expand(id) {
  await act(async () => {
    const data = await fetchNeighbours(id, 1);
    data.nodes.forEach(remember);
    const added = state.graph.merge(data.nodes, data.edges, id);
    state.graph.render({ fresh: false });
    selectNode(id);
    graphSummary(`（展开 ${nameOf(id)}：新增 ${added.length} 个）`);
  });
}

function collapse(id) {
  const removed = state.graph.collapse(id);
  state.graph.render({ fresh: false });
  selectNode(state.graph.nodes.has(id) ? id : null);
  graphSummary(`（收起 ${nameOf(id)}：移除 ${removed} 个）`);
}

// -- paths -----------------------------------------------------------------------

async function findPaths() {
  const from = $('path-from').value.trim();
  const to = $('path-to').value.trim();
  if (!from || !to) return;
  const out = clear($('path-results'));
  await act(async () => {
    const data = await api('/paths', {
      params: { from, to, max_depth: $('path-max-depth').value, as_of: asOf() },
    });
    remember(data.from);
    remember(data.to);
    out.append(
      h(
        'p',
        { class: 'muted', testid: 'path-summary' },
        `${data.from.name} → ${data.to.name}：`,
        data.paths.length ? `${data.paths.length} 条最短路径（${data.paths[0].length} 跳，${data.as_of}）` : `${data.max_depth} 跳内无路径（${data.as_of}）`,
      ),
    );
    data.paths.forEach((p, i) => {
      p.nodes.forEach(remember);
      out.append(
        h(
          'div',
          { class: 'path', testid: 'path-result' },
          h(
            'div',
            { class: 'path-head' },
            h('strong', {}, `路径 ${i + 1}（${p.length} 跳）`),
            h('button', { type: 'button', testid: 'path-show-graph', title: 'Show this path in the graph', onclick: () => showPath(p) }, '在图谱中显示'),
          ),
          h(
            'ol',
            { class: 'hops' },
            p.hops.map((hop) =>
              h(
                'li',
                { testid: 'path-hop', 'data-relation': hop.relation },
                subjectLink(hop.from, hop.from_name),
                h(
                  'span',
                  { class: 'rel', title: `${hop.relation}; ${hop.direction === 'forward' ? '正向' : '反向'}` },
                  hop.direction === 'forward' ? ` —${edgeLabel(hop)}→ ` : ` ←${edgeLabel(hop)}— `,
                ),
                subjectLink(hop.to, hop.to_name),
                h('div', { class: 'small' }, h('span', { testid: 'path-hop-dates' }, dates(hop.valid_from, hop.valid_to)), ' 记录 ', recordIds(hop.records)),
              ),
            ),
          ),
        ),
      );
    });
  });
}

function showPath(p) {
  const g = state.graph;
  const fresh = !g.nodes.size;
  if (fresh) g.reset(p.nodes[0].id);
  g.merge(p.nodes, p.hops, null);
  g.highlight = new Set([...p.nodes.map((n) => n.id), ...p.hops.map((hop) => hop.id)]);
  g.render({ fresh });
  graphSummary('（高亮显示路径）');
  $('graph-panel').scrollIntoView({ block: 'nearest' });
}

// -- review ----------------------------------------------------------------------

// A feature's value as a reviewer reads it: a similarity as a number, an
// agreement (1/0, true/false) as 是/否.
const SIMILARITIES = new Set(['name', 'former_name']);
function featureValue(code, v) {
  if (SIMILARITIES.has(code)) return String(v);
  if (v === true || v === 1) return '是';
  if (v === false || v === 0) return '否';
  return String(v);
}

async function loadReview() {
  const list = clear($('review-queue'));
  await act(async () => {
    const data = await api('/review', { params: { limit: 50 } });
    $('review-summary').textContent = `共 ${data.total} 对待复核（显示 ${data.items.length}）`;
    const canJudge = state.paths.has('/judgements');
    for (const item of data.items) {
      const side = (s, id) =>
        h('div', { class: 'side' }, subjectLink(id, s ? s.name : id), s ? keyList(s.keys, 'review-keys') : null);
      const li = h(
        'li',
        { testid: 'review-item', class: 'review-item', 'data-pair': item.pair },
        h('div', { class: 'pair' }, side(item.a_subject, item.a), h('span', { class: 'vs' }, '≟'), side(item.b_subject, item.b)),
        h(
          'div',
          { class: 'small' },
          '得分 score ',
          h('strong', { testid: 'review-score' }, String(item.score)),
          ' · 特征 ',
          Object.entries(item.features || {}).map(([k, v]) =>
            h('span', { class: 'feat', testid: 'review-feature', 'data-feature': k, title: `${k}=${v}` }, `${label('match_features', k)} ${featureValue(k, v)}`),
          ),
        ),
        item.record ? h('div', { class: 'small muted' }, '来源记录 ', h('code', {}, item.record), item.role ? ` (${roleLabel(item.role)})` : '') : null,
      );
      if (canJudge) {
        const judge = (kind) => async () => {
          const done = await act(async () => {
            await api('/judgements', { method: 'POST', body: { kind, a: item.a, b: item.b } });
            return true;
          });
          if (done) {
            li.remove();
            notice(kind === 'confirm' ? `已确认为同一主体：${item.pair}` : `已驳回：${item.pair}`);
            if (state.card === item.a || state.card === item.b) state.card = null;
          }
        };
        li.append(
          h(
            'div',
            { class: 'actions' },
            h('button', { type: 'button', testid: 'review-confirm', class: 'confirm', title: 'Confirm: the same subject (merge)', onclick: judge('confirm') }, '确认同一'),
            h('button', { type: 'button', testid: 'review-reject', class: 'reject', title: 'Reject: different subjects', onclick: judge('reject') }, '不是同一'),
          ),
        );
      }
      list.append(li);
    }
    if (!data.items.length) list.append(h('li', { class: 'muted' }, '队列为空 (queue empty)'));
  });
}

// -- start -----------------------------------------------------------------------

function bindGraphTools() {
  const g = state.graph;
  $('graph-zoom-in').addEventListener('click', () => g.zoomBy(1.25));
  $('graph-zoom-out').addEventListener('click', () => g.zoomBy(0.8));
  $('graph-fit').addEventListener('click', () => g.fit());
  $('graph-expand').addEventListener('click', () => state.selected && expand(state.selected));
  $('graph-collapse').addEventListener('click', () => state.selected && collapse(state.selected));
  $('graph-export-png').addEventListener('click', () => g.exportPng());
  $('graph-export-json').addEventListener('click', () => g.exportJson());
}

async function start() {
  bindKey();
  $('error-close').addEventListener('click', hideError);
  state.graph = new Graph($('graph-canvas'), $('graph-edges'), { onOpen: openCard, onExpand: expand, onSelect: selectNode });
  state.graph.onCollapse = collapse;
  bindGraphTools();
  document.getElementById('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    search();
  });
  document.getElementById('graph-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    drawGraph(null);
  });
  document.getElementById('path-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    findPaths();
  });
  $('as-of-input').addEventListener('change', () => {
    // the card's listings and measures depend on the date: reload them
    const id = state.card;
    state.card = null;
    if (id) openCard(id);
  });
  $('review-load').addEventListener('click', loadReview);
  legend($('graph-legend'));
  const [paths] = await Promise.all([endpoints(), withVocabulary()]);
  state.paths = paths;
  $('review-panel').hidden = !state.paths.has('/review');
  if (!state.paths.has('/paths')) $('path-panel').hidden = true;
  document.body.dataset.ready = 'true';
}

start();
