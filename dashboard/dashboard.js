// The live dashboard: reads GET /api/admin/live (Server-Sent Events) with fetch, because EventSource
// cannot send the admin token in a header, and the token must never go into a URL. The shapes of the
// events are LiveHistory and LiveSnapshot in src/contract.ts.

const TOKEN_KEY = 'flash-sale-admin-token';
const HISTORY_POINTS = 300;
const RETRY_MS = 2000;
const SVG = 'http://www.w3.org/2000/svg';

/** When a number turns amber or red; docs/operating.md says what to do then. */
const LIMITS = {
  lagSeconds: { warn: 5, bad: 30 },
  loopMs: { warn: 50, bad: 200 },
  routeP99Ms: { warn: 100, bad: 500 },
};

const $ = (selector) => document.querySelector(selector);
let history = [];
let controller = null;

// ---- formatting ----

const fmt = (n, digits = 0) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en', { maximumFractionDigits: digits }));
const fmtMs = (n) => (n === null || n === undefined ? '–' : `${fmt(n, n < 10 ? 1 : 0)} ms`);
const fmtAge = (s) => (s === null || s === undefined ? 'none' : s < 60 ? `${fmt(s, 1)} s` : `${fmt(s / 60, 1)} min`);
const fmtEta = (s) => (s === null ? '–' : s < 60 ? `${fmt(s)} s` : s < 3600 ? `${fmt(s / 60, 1)} min` : `${fmt(s / 3600, 1)} h`);
const level = (value, limits) => (value === null || value === undefined ? 'ok' : value >= limits.bad ? 'bad' : value >= limits.warn ? 'warn' : 'ok');
const pct = (part, whole) => (whole > 0 ? `${fmt((100 * part) / whole, 1)} %` : '–');

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const cell of cells) tr.append(cell instanceof Node ? cell : el('td', cell));
  return tr;
}

function num(text, className = '') {
  return el('td', text, `num ${className}`.trim());
}

// ---- pictures ----

function sparkline(svg, values) {
  svg.setAttribute('viewBox', '0 0 100 30');
  svg.setAttribute('preserveAspectRatio', 'none');
  const max = Math.max(1e-9, ...values);
  const step = values.length > 1 ? 100 / (values.length - 1) : 0;
  const points = values.map((v, i) => `${(i * step).toFixed(2)},${(29 - (28 * v) / max).toFixed(2)}`).join(' ');
  let line = svg.querySelector('polyline');
  if (!line) svg.append((line = document.createElementNS(SVG, 'polyline')));
  line.setAttribute('points', points);
}

function stockBar(stock) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'bar');
  svg.setAttribute('viewBox', '0 0 100 10');
  svg.setAttribute('preserveAspectRatio', 'none');
  const total = Math.max(1, stock.total);
  let x = 0;
  for (const [part, value] of [['sold', stock.sold], ['pending', stock.pending_payment], ['held', stock.held], ['available', stock.available]]) {
    const rect = document.createElementNS(SVG, 'rect');
    const width = (100 * value) / total;
    rect.setAttribute('class', part);
    rect.setAttribute('x', String(x));
    rect.setAttribute('y', '0');
    rect.setAttribute('width', String(width));
    rect.setAttribute('height', '10');
    svg.append(rect);
    x += width;
  }
  return svg;
}

// ---- panels ----

function tile(id, value, spark, { detail, lvl = 'ok' } = {}) {
  const node = $(`#${id}`);
  node.querySelector('[data-value]').textContent = value;
  const detailNode = node.querySelector('[data-detail]');
  if (detailNode) detailNode.textContent = detail ?? '';
  node.dataset.level = lvl;
  sparkline(node.querySelector('[data-spark]'), spark);
}

function renderTiles(s) {
  const series = (key) => history.map((p) => p[key] ?? 0);
  tile('tile-holds', fmt(s.holds_per_s), series('holds_per_s'));
  tile('tile-soldout', fmt(s.sold_out_per_s), series('sold_out_per_s'));
  tile('tile-requests', fmt(s.requests_per_s), series('requests_per_s'));
  tile('tile-lag', fmtAge(s.oldest_change_age_s), series('oldest_change_age_s'), {
    detail: `${fmt(s.outbox)} changes not yet in Postgres`,
    lvl: level(s.oldest_change_age_s, LIMITS.lagSeconds),
  });
  tile('tile-loop', fmtMs(s.event_loop.p99_ms), series('event_loop_p99_ms'), {
    detail: `p50 ${fmtMs(s.event_loop.p50_ms)} · max ${fmtMs(s.event_loop.max_ms)}`,
    lvl: level(s.event_loop.p99_ms, LIMITS.loopMs),
  });
}

function saleCell(p) {
  const td = el('td');
  const soldOut = p.stock.available === 0;
  td.append(el('span', soldOut ? 'SOLD OUT' : p.sale, `badge ${soldOut ? 'soldout' : p.sale}`));
  const range = [p.sale_starts_at, p.sale_ends_at].map((t) => (t ? new Date(t).toLocaleString() : '…')).join(' → ');
  if (p.sale_starts_at || p.sale_ends_at) td.append(el('div', range, 'small'));
  return td;
}

function renderProducts(products, total) {
  const shown = $('#products-shown');
  shown.hidden = total <= products.length;
  shown.textContent = `${fmt(products.length)} of ${fmt(total)} products: those with hold requests in the last second first`;
  const body = $('#products tbody');
  body.replaceChildren(
    ...products.map((p) => {
      const bar = el('td');
      bar.append(stockBar(p.stock));
      return row([productCell(p), saleCell(p), bar, num(fmt(p.stock.available), p.stock.available === 0 ? 'bad' : ''), num(fmt(p.stock.held)), num(fmt(p.stock.pending_payment)), num(fmt(p.stock.sold)), num(fmt(p.outbox))]);
    }),
  );
  if (products.length === 0) body.append(row([el('td', 'no products yet', 'muted')]));
  body.dataset.count = String(products.length);
}

function productCell(p) {
  const td = el('td');
  td.append(el('div', p.name), el('div', p.id, 'small'));
  return td;
}

function renderAdmissions(products) {
  const fair = products.filter((p) => p.admission !== null);
  $('#admissions-panel').hidden = fair.length === 0;
  $('#admissions tbody').replaceChildren(
    ...fair.map((p) => {
      const a = p.admission;
      const queue = a.mode === 'queue';
      const mode = el('td', a.mode);
      if (a.sold_out) mode.append(el('span', 'SOLD OUT', 'badge soldout'));
      const draw = el('td', a.draw ?? '–');
      if (a.raffle_closes_at) draw.append(el('div', `closes ${new Date(a.raffle_closes_at).toLocaleString()}`, 'small'));
      const inQueue = (text) => num(queue ? text : '–');
      const inRaffle = (text) => num(queue ? '–' : text);
      const tr = row([productCell(p), mode, inQueue(fmt(a.queue_length)), inQueue(fmt(a.admitted)), inQueue(fmt(a.admitted_total)),
        inQueue(fmt(a.admission_rate_per_s, 2)), inQueue(fmtEta(a.tail_eta_s)), inRaffle(fmt(a.raffle_entries)), inRaffle(fmt(a.raffle_winners)), draw]);
      tr.dataset.product = p.id;
      return tr;
    }),
  );
}

function renderConversion(c) {
  $('#conversion tbody').replaceChildren(
    row(['Holds placed', num(fmt(c.holds)), num('')]),
    row(['Orders created', num(fmt(c.orders)), num(pct(c.orders, c.holds))]),
    row(['Orders paid', num(fmt(c.paid)), num(pct(c.paid, c.orders))]),
  );
}

function renderWebhooks(webhooks) {
  const entries = Object.entries(webhooks).sort(([a], [b]) => a.localeCompare(b));
  $('#webhooks tbody').replaceChildren(...entries.map(([result, n]) => row([result, num(fmt(n), result === 'amount_mismatch' && n > 0 ? 'bad' : '')])));
  if (entries.length === 0) $('#webhooks tbody').append(row([el('td', 'none yet', 'muted')]));
}

function renderQueues(queues) {
  const body = $('#queues tbody');
  if (!queues) return body.replaceChildren(row([el('td', 'unreadable', 'bad')]));
  body.replaceChildren(
    ...Object.entries(queues).map(([name, c]) => row([name, num(fmt(c.waiting)), num(fmt(c.delayed)), num(fmt(c.active)), num(fmt(c.failed), c.failed > 0 ? 'bad' : '')])),
  );
}

function renderRoutes(routes) {
  const busy = routes.filter((r) => r.per_s > 0);
  $('#routes tbody').replaceChildren(
    ...busy.map((r) => {
      const p99Level = level(r.p99_ms, LIMITS.routeP99Ms);
      return row([`${r.method} ${r.route}`, num(fmt(r.per_s, 1)), num(fmt(r.server_errors_per_s, 1), r.server_errors_per_s > 0 ? 'bad' : ''), num(fmtMs(r.p50_ms)), num(fmtMs(r.p99_ms), p99Level === 'ok' ? '' : p99Level)]);
    }),
  );
  if (busy.length === 0) $('#routes tbody').append(row([el('td', 'no requests in the last 10 s', 'muted')]));
}

function render(s) {
  renderTiles(s);
  renderProducts(s.products, s.products_total);
  renderAdmissions(s.products);
  renderConversion(s.conversion);
  renderWebhooks(s.webhooks);
  renderQueues(s.queues);
  renderRoutes(s.routes);
  const error = $('#engine-error');
  error.hidden = s.error === null;
  error.textContent = s.error === null ? '' : `The engine's state could not be read: ${s.error}`;
  $('#updated').textContent = `updated ${new Date(s.at).toLocaleTimeString()}`;
  document.body.dataset.updated = s.at;
}

// ---- the stream ----

function setConnection(state, text) {
  const pill = $('#connection');
  pill.dataset.state = state;
  pill.textContent = text;
}

function onEvent(event, data) {
  if (event === 'history') {
    history = JSON.parse(data);
  } else if (event === 'snapshot') {
    const s = JSON.parse(data);
    history.push({ holds_per_s: s.holds_per_s, sold_out_per_s: s.sold_out_per_s, requests_per_s: s.requests_per_s, oldest_change_age_s: s.oldest_change_age_s, event_loop_p99_ms: s.event_loop_p99_ms });
    if (history.length > HISTORY_POINTS) history.shift();
    render(s);
    setConnection('live', 'live');
  }
}

/** Splits a text/event-stream into events (the subset the engine sends: `event:` and `data:` lines). */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data = [];
      for (const line of frame.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      onEvent(event, data.join('\n'));
    }
  }
}

async function watch(token) {
  controller?.abort();
  controller = new AbortController();
  const { signal } = controller;
  setConnection('idle', 'connecting…');
  while (!signal.aborted) {
    try {
      const res = await fetch('/api/admin/live', { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal, cache: 'no-store' });
      if (res.status === 401 || res.status === 403) return signIn('That token was refused.');
      if (!res.ok || !res.body) throw new Error(`answered ${res.status}`);
      await readEvents(res.body, onEvent);
      setConnection('lost', 'stream ended, reconnecting…');
    } catch (err) {
      if (signal.aborted) return;
      setConnection('lost', `disconnected (${err instanceof Error ? err.message : err}), retrying…`);
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

function signIn(message) {
  controller?.abort();
  sessionStorage.removeItem(TOKEN_KEY);
  $('#board').hidden = true;
  $('#sign-out').hidden = true;
  $('#sign-in').hidden = false;
  const error = $('#sign-in-error');
  error.hidden = !message;
  error.textContent = message ?? '';
  setConnection('idle', 'not connected');
  $('#token').focus();
}

function start(token) {
  $('#sign-in').hidden = true;
  $('#board').hidden = false;
  $('#sign-out').hidden = false;
  void watch(token);
}

$('#sign-in').addEventListener('submit', (e) => {
  e.preventDefault();
  const token = $('#token').value.trim();
  $('#token').value = '';
  sessionStorage.setItem(TOKEN_KEY, token);
  start(token);
});
$('#sign-out').addEventListener('click', () => signIn());

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) start(saved);
else signIn();
