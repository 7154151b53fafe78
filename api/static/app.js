// The investigator page: search, subject card, relation graph, path finder and
// review queue over the creditlink API. Every value from the API is rendered
// as text (dom.js); nothing is parsed as HTML.

import { api, ApiError, clearKey, endpoints, getKey, setKey } from './api.js';
import { $, clear, h } from './dom.js';
import { Graph, edgeLabel } from './graph.js';
import { ATTRIBUTES, FEEDS, MATCH, RELATIONS, ROLES, STATUS, TYPES, label, splitKey } from './labels.js';

const state = { paths: new Set(), names: new Map(), card: null, graph: null };

// -- small helpers -------------------------------------------------------------

const asOf = () => $('as-of-input').value || undefined;

function remember(summary) {
  if (summary && summary.id) state.names.set(summary.id, summary.name);
}

function nameOf(id) {
  return state.names.get(id) || id;
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
    name ?? nameOf(id),
  );
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
    'table',
    { class: 'grid', testid },
    h('thead', {}, h('tr', {}, head.map(([zh, en]) => h('th', { title: en }, zh)))),
    h('tbody', {}, rows),
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
}

function bindKey() {
  document.getElementById('key-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = $('api-key-input');
    const key = input.value.trim();
    if (!key) return;
    setKey(key);
    input.value = '';
    hideError();
    showKeyStatus();
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
            h('span', { class: `badge ${r.type}`, testid: 'search-result-type', title: r.type }, label(TYPES, r.type)),
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
    const [subject, listings, measures] = await Promise.all([
      api(`/subjects/${encodeURIComponent(id)}`),
      state.paths.has('/subjects/{key}/listings')
        ? api(`/subjects/${encodeURIComponent(id)}/listings`, { params }).catch((e) => e)
        : null,
      state.paths.has('/subjects/{key}/measures')
        ? api(`/subjects/${encodeURIComponent(id)}/measures`, { params }).catch((e) => e)
        : null,
    ]);
    if (state.card !== id) return; // another card was asked for meanwhile
    remember(subject);
    renderCard(subject, listings, measures);
  }).catch(() => {});
  if (state.card === id && card.dataset.id !== id) state.card = null;
}

function renderCard(s, listings, measures) {
  const card = clear($('subject-card'));
  card.dataset.id = s.id;
  // through h(): it drops the sections that are absent (null), which append() would print
  card.append(h('div', { class: 'card-body' },
    h(
      'header',
      { class: 'card-head' },
      h('h2', { testid: 'subject-name', class: 'subject-name' }, s.name),
      h('span', { class: `badge ${s.type}`, testid: 'subject-type', title: s.type }, label(TYPES, s.type)),
      s.status ? h('span', { class: 'badge status', testid: 'subject-status', title: 'registration status' }, s.status) : null,
      h('code', { class: 'muted small', testid: 'subject-id', title: 'subject id' }, s.id),
      h(
        'span',
        { class: 'actions' },
        h('button', { type: 'button', testid: 'card-graph', title: 'Draw the graph around this subject', onclick: () => drawGraph(s.id) }, '绘制图谱'),
        h('button', { type: 'button', testid: 'card-path-from', title: 'Use as path start', onclick: () => { $('path-from').value = s.id; } }, '设为起点'),
        h('button', { type: 'button', testid: 'card-path-to', title: 'Use as path end', onclick: () => { $('path-to').value = s.id; } }, '设为终点'),
      ),
    ),
    section('标识代码', 'Keys', 'subject-keys-section', keyList(s.keys, 'subject-keys')),
    section(
      '基本信息',
      'Attributes',
      'subject-attributes',
      Object.keys(s.attributes || {}).length
        ? h(
            'dl',
            { class: 'attrs' },
            Object.entries(s.attributes).map(([k, v]) => [h('dt', { title: k }, label(ATTRIBUTES, k)), h('dd', {}, typeof v === 'object' ? JSON.stringify(v) : String(v))]),
          )
        : h('p', { class: 'muted' }, '无'),
    ),
    section(
      '名称及来源',
      'Names and the records that carry them',
      'subject-names',
      h(
        'ul',
        { class: 'names' },
        (s.names || []).map((n) => h('li', { testid: 'subject-name-item' }, h('strong', {}, n.name), ' ', recordIds(n.sources))),
      ),
    ),
    section(
      `来源记录（${(s.records || []).length}）`,
      'Records merged into this subject, with how each matched',
      'subject-records',
      table(
        'subject-records-table',
        [['记录编号', 'record id'], ['数据来源', 'feed'], ['角色', 'role'], ['记录中的名称', 'name as recorded'], ['匹配方式', 'match method'], ['匹配依据/得分', 'key or score'], ['加载时间', 'loaded at']],
        (s.records || []).map((r) => {
          const m = r.match || {};
          const basis = m.score !== undefined ? `得分 ${m.score}` : m.key || m.judgement || m.reason || '';
          return h(
            'tr',
            { testid: 'subject-record', 'data-id': r.id },
            h('td', {}, h('code', { testid: 'record-id' }, r.id)),
            h('td', { title: `${r.file} 第 ${r.row} 行` }, label(FEEDS, r.feed)),
            h('td', { title: r.role }, label(ROLES, r.role)),
            h('td', {}, r.name ?? ''),
            h('td', { testid: 'record-match', title: m.method || '' }, label(MATCH, m.method)),
            h('td', {}, String(basis), r.warnings && r.warnings.length ? h('div', { class: 'warn' }, r.warnings.join('; ')) : null),
            h('td', { class: 'small' }, r.loaded_at || ''),
          );
        }),
      ),
    ),
    renderListings(listings),
    renderMeasures(measures),
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

function sectionError(title, en, testid, err) {
  return section(title, en, testid, h('p', { class: 'warn' }, err instanceof ApiError ? `${err.status} ${err.message}` : String(err)));
}

function renderListings(data) {
  if (data === null) return null;
  if (data instanceof Error) return sectionError('名单及处罚', 'Listings', 'subject-listings', data);
  return section(
    `名单、处罚及许可（${data.listings.length}）`,
    `Listings with their status on ${data.as_of}`,
    'subject-listings',
    data.listings.length
      ? table(
          'subject-listings-table',
          [['类别', 'kind'], ['文号', 'number'], ['部门', 'department'], ['起止', 'dates'], ['状态', `status on ${data.as_of}`], ['来源记录', 'records']],
          data.listings.map((l) =>
            h(
              'tr',
              { testid: 'subject-listing', 'data-id': l.id },
              h('td', { title: l.feed }, label(FEEDS, l.feed)),
              h('td', {}, l.number || '—'),
              h('td', {}, l.department || '—'),
              h('td', {}, dates(l.dates.start, l.dates.end)),
              h(
                'td',
                { testid: 'listing-status', class: `st-${l.dates.status}`, title: l.dates.reason || l.dates.status },
                label(STATUS, l.dates.status),
                l.dates.until ? ` （至 ${l.dates.until}）` : '',
              ),
              h('td', {}, recordIds(l.record)),
            ),
          ),
        )
      : h('p', { class: 'muted' }, '无'),
  );
}

function renderMeasures(data) {
  if (data === null) return null;
  if (data instanceof Error) return sectionError('惩戒/激励措施', 'Measures', 'subject-measures', data);
  return section(
    `适用的联合奖惩措施（${data.measures.length}）`,
    `Measures that apply on ${data.as_of}, with rule, legal basis and path`,
    'subject-measures',
    data.measures.length
      ? h(
          'ol',
          { class: 'measures' },
          data.measures.map((m) =>
            h(
              'li',
              { testid: 'subject-measure', class: m.punitive ? 'punitive' : 'reward' },
              h(
                'div',
                {},
                h('strong', { title: m.measure }, m.label || m.measure),
                ' ',
                h('span', { class: 'badge', title: m.direct ? 'direct: own listing' : 'propagated through a related party' }, m.direct ? '直接' : '关联传导'),
                m.until ? h('span', { class: 'muted small' }, ` 至 ${m.until}`) : null,
              ),
              h('div', { class: 'small' }, '规则 rule：', h('code', { testid: 'measure-rule' }, m.rule), m.role ? ` · 角色 ${m.role}` : ''),
              h('div', { class: 'small', testid: 'measure-basis' }, '依据 basis：', m.basis || '—'),
              m.listing
                ? h(
                    'div',
                    { class: 'small' },
                    '名单 listing：',
                    label(FEEDS, m.listing.feed),
                    ' ',
                    m.listing.number || '',
                    ' ',
                    m.listing.department || '',
                    ' ',
                    subjectLink(m.listing.subject),
                    ' ',
                    recordIds(m.listing.record),
                  )
                : null,
              m.path && m.path.length
                ? h(
                    'ol',
                    { class: 'hops', testid: 'measure-path' },
                    m.path.map((p) =>
                      h(
                        'li',
                        {},
                        subjectLink(p.from),
                        ` —${label(RELATIONS, p.relation)}${p.role && p.role !== p.relation ? `(${p.role})` : ''}→ `,
                        subjectLink(p.to),
                        h('span', { class: 'muted small' }, ` ${dates(p.valid_from, p.valid_to)} `),
                        recordIds(p.records),
                      ),
                    ),
                  )
                : null,
            ),
          ),
        )
      : h('p', { class: 'muted' }, '无'),
  );
}

// -- graph -----------------------------------------------------------------------

function relationFilter() {
  return [...document.querySelectorAll('[data-testid="graph-relation"]:checked')].map((c) => c.value);
}

function bindRelationFilter() {
  const box = $('graph-relations');
  box.append(h('legend', { title: 'Relation types' }, '关系'));
  for (const [code, zh] of Object.entries(RELATIONS)) {
    box.append(
      h(
        'label',
        { title: code },
        h('input', { type: 'checkbox', testid: 'graph-relation', value: code, checked: true }),
        zh,
      ),
    );
  }
}

async function fetchNeighbours(id, depth) {
  const all = Object.keys(RELATIONS);
  const chosen = relationFilter();
  // all boxes ticked means "every type", including types this page has no label for
  const relation = chosen.length === all.length ? undefined : chosen;
  if (relation && !relation.length) throw new ApiError(0, 'no_relation', '请至少选择一种关系类型');
  return api(`/subjects/${encodeURIComponent(id)}/neighbors`, { params: { depth, relation, as_of: asOf() } });
}

function graphSummary(extra = '') {
  const g = state.graph;
  $('graph-summary').textContent =
    `${g.nodes.size} 个主体，${g.edges.size} 条关系${extra}。单击节点查看主体，双击展开。`;
}

async function drawGraph(id) {
  const target = id || state.graph.centre;
  if (!target) return;
  await act(async () => {
    const data = await fetchNeighbours(target, Number($('graph-depth').value));
    const g = state.graph;
    g.reset(data.center.id);
    data.nodes.forEach(remember);
    g.merge(data.nodes, data.edges, null);
    g.layout(300);
    g.render();
    graphSummary(data.truncated ? `（已截断：最多 ${data.max_nodes} 个）` : '');
    $('graph-panel').scrollIntoView({ block: 'nearest' });
  });
}

async function expand(id) {
  await act(async () => {
    const data = await fetchNeighbours(id, 1);
    data.nodes.forEach(remember);
    const added = state.graph.merge(data.nodes, data.edges, id);
    state.graph.layout(150);
    state.graph.render();
    graphSummary(`（展开 ${nameOf(id)}：新增 ${added} 个）`);
  });
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
                subjectLink(hop.from),
                h(
                  'span',
                  { class: 'rel', title: `${hop.relation}; ${hop.direction === 'forward' ? '正向' : '反向'}` },
                  hop.direction === 'forward' ? ` —${edgeLabel(hop)}→ ` : ` ←${edgeLabel(hop)}— `,
                ),
                subjectLink(hop.to),
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
  if (!g.nodes.size) g.reset(p.nodes[0].id);
  g.merge(p.nodes, p.hops.map((hop) => ({ ...hop, id: hop.id })), null);
  g.highlight = new Set([...p.nodes.map((n) => n.id), ...p.hops.map((hop) => hop.id)]);
  g.layout(200);
  g.render();
  graphSummary('（高亮显示路径）');
  $('graph-panel').scrollIntoView({ block: 'nearest' });
}

// -- review ----------------------------------------------------------------------

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
          Object.entries(item.features || {}).map(([k, v]) => h('code', { class: 'feat', title: 'feature' }, `${k}=${v}`)),
        ),
        item.record ? h('div', { class: 'small muted' }, '来源记录 ', h('code', {}, item.record), item.role ? ` (${item.role})` : '') : null,
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

async function start() {
  bindKey();
  bindRelationFilter();
  $('error-close').addEventListener('click', hideError);
  state.graph = new Graph($('graph-canvas'), { onOpen: openCard, onExpand: expand });
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
  state.paths = await endpoints();
  $('review-panel').hidden = !state.paths.has('/review');
  if (!state.paths.has('/paths')) $('path-panel').hidden = true;
  document.body.dataset.ready = 'true';
}

start();
