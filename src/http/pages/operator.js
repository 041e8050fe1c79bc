// humanline operator page: edit a dialplan with the checker's errors inline, see its flow,
// simulate a caller, publish, diff and roll back versions, and manage the prompts.
// Talks to /api/operator/* (plans: src/http/operator.rs, prompts: src/http/prompts_api.rs).
// No framework; CodeMirror 5 (vendored, /assets/codemirror/) is the editor.
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const CHECK_DELAY_MS = 300;
  const REASONS = {
    zero_out: 'pressed the zero-out key',
    human_request: 'asked for a person',
    hesitation: 'hesitated',
    retries: 'ran out of retries',
    fault: 'something failed',
  };
  const state = {
    me: null,
    plans: [],
    plan: null,          // GET /api/operator/plans/{name}
    liveSource: '',
    checkSeq: 0,
    checkTimer: null,
    check: null,         // last check response
    marks: [],           // { handle, cls } line classes
    widgets: [],         // line widgets
    graph: null,
    script: [],          // simulator lines so far
    simSeq: 0,
    sim: null,
    lang: 'en',
  };
  const operator = (window.operator = { state });

  // ---- small helpers ---------------------------------------------------------------------

  function el(tag, attrs = {}, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'type' || k === 'role' || k === 'title' || k === 'for' || k === 'name' || k === 'value') e.setAttribute(k, v === true ? '' : v);
      else e[k] = v;
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }
  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs = {}, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function notice(text) {
    $('notice').textContent = text || '';
    $('notice').hidden = !text;
  }
  function plural(n, word) { return `${n} ${word}${n === 1 ? '' : 's'}`; }
  function when(ms) { return ms ? new Date(ms).toLocaleString() : '–'; }
  function setResult(id, text, ok, attrs = {}) {
    const r = $(id);
    r.textContent = text;
    r.className = `result ${ok ? 'ok' : 'bad'}`;
    for (const [k, v] of Object.entries(attrs)) r.setAttribute(k, v);
  }

  /** fetch with the session and CSRF token; resolves to { ok, status, data } (never throws on 4xx). */
  async function request(path, opts = {}) {
    const headers = Object.assign({}, opts.headers || {});
    let body = opts.body;
    if (body !== undefined && !(body instanceof Blob)) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(body); }
    if (opts.method && opts.method !== 'GET' && state.me) headers['X-CSRF-Token'] = state.me.csrf;
    const r = await fetch(path, { method: opts.method || 'GET', headers, credentials: 'same-origin', body });
    if (r.status === 401) { location.href = `/login?next=${encodeURIComponent(location.pathname)}`; throw new Error('signed out'); }
    let data = null;
    try { data = await r.json(); } catch (_) { data = null; }
    return { ok: r.ok, status: r.status, data };
  }
  async function api(path, opts) {
    const r = await request(path, opts);
    if (!r.ok) throw new Error((r.data && r.data.error) || `HTTP ${r.status}`);
    return r.data;
  }

  // ---- plans -----------------------------------------------------------------------------

  async function loadPlans() {
    state.plans = await api('/api/operator/plans');
    const ul = $('plans');
    ul.replaceChildren(...state.plans.map((p) => el('li', {},
      el('button', { type: 'button', 'data-plan': p.name, 'aria-current': state.plan && state.plan.name === p.name ? 'true' : 'false', onclick: () => openPlan(p.name) },
        el('span', { class: 'name', text: `${p.name}.toml` }),
        el('span', { class: 'meta' }, el('span', { class: 'live-dot', text: '● ' }), `live v${p.live_version_id} · ${p.language}`),
        p.reload_error ? el('span', { class: 'bad', text: `File on disk is invalid: ${p.reload_error}` }) : null))));
    $('conn').textContent = `${plural(state.plans.length, 'plan')}`;
  }

  async function openPlan(name) {
    const d = await api(`/api/operator/plans/${encodeURIComponent(name)}`);
    state.plan = d;
    state.liveSource = d.source;
    cm.setValue(d.source);
    cm.clearHistory();
    history.replaceState(null, '', `#plan=${encodeURIComponent(name)}`);
    $('plan-title').textContent = `${name}.toml`;
    renderPlanMeta();
    resetSim(false);
    await loadPlans();
    await runCheck();
  }

  /** Re-reads the open plan's versions and live marker without touching the editor. */
  async function refreshPlan() {
    if (!state.plan) return;
    state.plan = await api(`/api/operator/plans/${encodeURIComponent(state.plan.name)}`);
    state.liveSource = state.plan.source;
    await loadPlans();
    renderPlanMeta();
  }

  function renderPlanMeta() {
    const d = state.plan;
    $('plan-live').textContent = `live: v${d.live_version_id}`;
    $('plan-live').dataset.live = d.live_version_id;
    $('reload-error').hidden = !d.reload_error;
    $('reload-error').textContent = d.reload_error ? `The file on disk does not load, the live version keeps serving: ${d.reload_error}` : '';
    renderVersions();
    updateButtons();
  }

  function updateButtons() {
    const edited = cm.getValue() !== state.liveSource;
    const valid = !!(state.check && state.check.ok);
    $('btn-publish').disabled = !state.plan || !valid || !edited;
    $('btn-publish').title = !valid ? 'Fix the errors first' : (!edited ? 'Nothing changed from the live version' : '');
    $('btn-revert').disabled = !state.plan || !edited;
  }

  // ---- editor and inline diagnostics -----------------------------------------------------

  const cm = CodeMirror($('editor'), {
    mode: 'toml', lineNumbers: true, gutters: ['diag', 'CodeMirror-linenumbers'], indentUnit: 2, tabSize: 2,
    viewportMargin: Infinity, extraKeys: { Tab: (c) => c.replaceSelection('  ') },
  });
  operator.cm = cm;
  cm.on('change', () => {
    $('check-status').textContent = 'checking…';
    $('check-status').className = 'check busy';
    updateButtons();
    clearTimeout(state.checkTimer);
    state.checkTimer = setTimeout(runCheck, CHECK_DELAY_MS);
  });

  function clearDiagnostics() {
    for (const w of state.widgets) w.clear();
    for (const m of state.marks) cm.removeLineClass(m.handle, 'background', m.cls);
    state.widgets = [];
    state.marks = [];
    cm.clearGutter('diag');
  }

  function showDiagnostics(list) {
    clearDiagnostics();
    const marked = new Set();
    for (const d of list || []) {
      const line = Math.min(Math.max((d.line || 1) - 1, 0), cm.lineCount() - 1);
      const sev = d.severity === 'warning' ? 'warning' : 'error';
      const handle = cm.getLineHandle(line);
      if (!marked.has(line)) {
        marked.add(line);
        const cls = sev === 'warning' ? 'diag-line-warning' : 'diag-line';
        cm.addLineClass(handle, 'background', cls);
        state.marks.push({ handle, cls });
        cm.setGutterMarker(line, 'diag', el('span', { class: `diag-marker ${sev}`, title: d.message, 'data-line': line + 1, text: sev === 'warning' ? '▲' : '●' }));
      }
      const box = el('div', { class: `diag-widget ${sev}`, 'data-line': d.line || '', 'data-severity': sev, role: 'note' },
        el('span', { class: 'where', text: `${sev === 'warning' ? 'Warning' : 'Error'} · line ${d.line || '?'}${d.col ? `:${d.col}` : ''}` }),
        el('span', { class: 'message', text: d.message }),
        d.hint ? el('span', { class: 'hint', text: `Hint: ${d.hint}` }) : null);
      state.widgets.push(cm.addLineWidget(handle, box, { coverGutter: false, noHScroll: true }));
    }
  }

  async function runCheck() {
    clearTimeout(state.checkTimer);
    if (!state.plan) return;
    const seq = ++state.checkSeq;
    const source = cm.getValue();
    let r;
    try {
      r = await request('/api/operator/check', { method: 'POST', body: { name: state.plan.name, source } });
    } catch (e) {
      if (seq === state.checkSeq) { $('check-status').textContent = `cannot check: ${e.message}`; $('check-status').className = 'check bad'; }
      return;
    }
    if (seq !== state.checkSeq) return; // a newer edit is being checked
    if (!r.ok || !r.data) {
      $('check-status').textContent = `cannot check: ${(r.data && r.data.error) || `HTTP ${r.status}`}`;
      $('check-status').className = 'check bad';
      return;
    }
    state.check = r.data;
    const diags = r.data.diagnostics || [];
    showDiagnostics(diags);
    const errors = diags.filter((d) => d.severity !== 'warning').length;
    const warnings = diags.length - errors;
    const st = $('check-status');
    if (r.data.ok) {
      st.textContent = warnings ? `valid · ${plural(warnings, 'warning')}` : 'valid';
      st.className = 'check ok';
    } else {
      st.textContent = [plural(errors, 'error'), warnings ? plural(warnings, 'warning') : ''].filter(Boolean).join(', ');
      st.className = 'check bad';
    }
    st.dataset.errors = errors;
    if (r.data.graph) drawGraph(r.data.graph);
    $('graph-note').textContent = r.data.graph ? '' : 'The plan does not load: the graph shows the last version that did.';
    updateButtons();
    if (state.script.length) runSim();
  }

  // ---- flow graph ------------------------------------------------------------------------

  const NODE_H = 46;
  const LAYER_GAP = 96;
  const NODE_GAP = 18;
  const SIDE = 40;
  function nodeWidth(n) { return Math.max(96, Math.max(n.id.length * 8.6, (n.kind || '').length * 7) + 22); }

  /** Layers by BFS depth from the start over the plan's own edges; queues last. */
  function layout(g) {
    const nodes = new Map(g.nodes.map((n) => [n.id, n]));
    const flow = g.edges.filter((e) => e.kind !== 'zero_out' && e.kind !== 'escalation');
    const out = new Map();
    for (const e of flow) { if (!out.has(e.from)) out.set(e.from, []); out.get(e.from).push(e.to); }
    const depth = new Map();
    const order = [];
    if (nodes.has(g.start)) { depth.set(g.start, 0); order.push(g.start); }
    for (let i = 0; i < order.length; i++) {
      for (const to of out.get(order[i]) || []) {
        const n = nodes.get(to);
        if (!n || n.kind === 'queue' || depth.has(to)) continue;
        depth.set(to, depth.get(order[i]) + 1);
        order.push(to);
      }
    }
    let max = Math.max(0, ...depth.values());
    const unreachable = g.nodes.filter((n) => n.kind !== 'queue' && !depth.has(n.id));
    if (unreachable.length) { max += 1; for (const n of unreachable) { depth.set(n.id, max); order.push(n.id); } }
    for (const n of g.nodes) if (n.kind === 'queue') { depth.set(n.id, max + 1); order.push(n.id); }
    const layers = [];
    for (const id of order) { const d = depth.get(id); (layers[d] = layers[d] || []).push(nodes.get(id)); }
    // One barycentre pass: order each layer by where its parents sit.
    const pos = new Map();
    layers.forEach((layer, d) => {
      if (d > 0) {
        const parentX = (n) => {
          const xs = flow.filter((e) => e.to === n.id && pos.has(e.from) && depth.get(e.from) < d).map((e) => pos.get(e.from));
          return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Infinity;
        };
        const keyed = layer.map((n, i) => ({ n, k: parentX(n), i }));
        keyed.sort((a, b) => (a.k - b.k) || (a.i - b.i));
        layers[d] = keyed.map((x) => x.n);
      }
      layers[d].forEach((n, i) => pos.set(n.id, i));
    });
    const widths = layers.map((l) => l.reduce((w, n) => w + nodeWidth(n), 0) + NODE_GAP * (l.length - 1));
    const W = Math.max(320, ...widths) + 2 * SIDE + 60;
    const box = new Map();
    layers.forEach((layer, d) => {
      let x = (W - widths[d]) / 2;
      for (const n of layer) {
        const w = nodeWidth(n);
        box.set(n.id, { x, y: 24 + d * LAYER_GAP, w, h: NODE_H, d });
        x += w + NODE_GAP;
      }
    });
    return { box, W, H: 24 + layers.length * LAYER_GAP, depth };
  }

  function edgePath(a, b, kind) {
    if (b.d > a.d) {
      const x1 = a.x + a.w / 2; const y1 = a.y + a.h;
      const x2 = b.x + b.w / 2; const y2 = b.y;
      const dy = (y2 - y1) / 2;
      // Labels sit at 3/4 of the way, near their target, so a menu's fan of choices spreads out.
      const at = (p0, p1, p2, p3, t) => (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t * t * p2 + t ** 3 * p3;
      return { d: `M${x1},${y1} C${x1},${y1 + dy} ${x2},${y2 - dy} ${x2},${y2}`, mid: [at(x1, x1, x2, x2, 0.75), at(y1, y1 + dy, y2 - dy, y2, 0.75)] };
    }
    // Same layer or back to an earlier one: around the right-hand side.
    const x1 = a.x + a.w; const y1 = a.y + a.h / 2;
    const x2 = b.x + b.w; const y2 = b.y + b.h / 2;
    const bulge = 46 + Math.abs(a.d - b.d) * 10 + (kind === 'default' ? 14 : 0);
    const cx = Math.max(x1, x2) + bulge;
    return { d: `M${x1},${y1} C${cx},${y1} ${cx},${y2} ${x2 + 4},${y2}`, mid: [(x1 + 6 * cx + x2) / 8, (y1 + y2) / 2] };
  }

  function drawGraph(g) {
    state.graph = g;
    const { box, W, H } = layout(g);
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `Flow of ${state.plan ? state.plan.name : 'the plan'}` });
    root.style.maxWidth = `${W * 1.1}px`;
    const defs = svg('defs');
    const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' });
    marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z' }));
    defs.append(marker);
    root.append(defs);
    const faint = svg('g', { class: 'edges-faint' });
    const edges = svg('g', { class: 'edges' });
    const labels = svg('g', { class: 'labels' });
    for (const e of g.edges) {
      const a = box.get(e.from); const b = box.get(e.to);
      if (!a || !b) continue;
      const p = edgePath(a, b, e.kind);
      const always = e.kind === 'zero_out' || e.kind === 'escalation';
      const path = svg('path', { d: p.d, class: `edge e-${e.kind}`, 'data-from': e.from, 'data-to': e.to, 'data-kind': e.kind });
      if (!always) path.setAttribute('marker-end', 'url(#arrow)');
      path.append(svg('title', {}, `${e.from} → ${e.to} (${e.kind.replace('_', '-')})${e.label ? `: ${e.label}` : ''}`));
      (always ? faint : edges).append(path);
      if (e.label && !always) {
        const text = e.label.length > 18 ? `${e.label.slice(0, 17)}…` : e.label;
        labels.append(svg('text', { x: p.mid[0], y: p.mid[1] + 4, 'text-anchor': 'middle', class: 'label' }, text));
      }
    }
    const nodes = svg('g', { class: 'nodes' });
    for (const n of g.nodes) {
      const b = box.get(n.id);
      if (!b) continue;
      const cls = ['node', `k-${n.kind}`];
      if (n.id === g.start) cls.push('start');
      if (state.sim && state.sim.node === n.id) cls.push('current');
      const grp = svg('g', { class: cls.join(' '), 'data-node': n.id, 'data-kind': n.kind, transform: `translate(${b.x},${b.y})` });
      grp.append(svg('rect', { width: b.w, height: b.h, rx: n.kind === 'queue' ? 18 : 6 }));
      const label = n.kind === 'queue' ? n.id.replace(/^queue:/, '') : n.id;
      grp.append(svg('text', { x: b.w / 2, y: 19, 'text-anchor': 'middle', class: 'id' }, label));
      const kind = n.kind === 'queue' ? 'queue · a person' : (n.id === g.start ? `${n.kind} · start` : n.kind);
      grp.append(svg('text', { x: b.w / 2, y: 36, 'text-anchor': 'middle', class: 'kind' }, kind));
      grp.append(svg('title', {}, `${n.id} (${n.kind})${n.prompt ? `, prompt ${n.prompt}` : ''}${n.line ? `, line ${n.line}` : ''}`));
      if (n.line) grp.addEventListener('click', () => { cm.setCursor({ line: n.line - 1, ch: 0 }); cm.focus(); });
      nodes.append(grp);
    }
    root.append(faint, edges, nodes, labels);
    $('graph').replaceChildren(root);
  }

  function markCurrentNode(id) {
    for (const n of document.querySelectorAll('#graph .node')) n.classList.toggle('current', n.dataset.node === id);
  }

  // ---- simulator -------------------------------------------------------------------------

  function describe(e) {
    switch (e.type) {
      case 'node': return `→ node ${e.node}`;
      case 'play': return `▶ ${e.prompt}${e.text ? `: “${e.text}”` : ''}`;
      case 'listen': return '… listening';
      case 'caller':
        if (e.says !== undefined) return `Caller says “${e.says}”`;
        if (e.dtmf !== undefined || e.digits !== undefined) return `Caller presses ${e.dtmf || e.digits}`;
        if (e.silence !== undefined) return `Caller is silent for ${e.silence} s`;
        return `Caller: ${JSON.stringify(e)}`;
      case 'heard': return `Heard “${e.text}”${e.intent ? ` → ${typeof e.intent === 'string' ? e.intent : JSON.stringify(e.intent)}` : ''}`;
      case 'hesitation': return `Hesitation ${Number(e.score).toFixed(2)}${e.signals && e.signals.length ? `: ${[].concat(e.signals).join('; ')}` : ''}`;
      case 'transfer': return `TRANSFER to ${e.queue}${e.reason ? ` — reason ${e.reason}` : ''}${e.summary ? ` (${e.summary})` : ''}`;
      case 'hangup': return `Hang-up${e.by ? ` by ${e.by}` : ''}`;
      default: {
        const rest = Object.entries(e).filter(([k]) => k !== 't' && k !== 'type').map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`);
        return `${e.type}${rest.length ? `: ${rest.join(', ')}` : ''}`;
      }
    }
  }

  function renderSim(d) {
    state.sim = d;
    $('sim-node').textContent = d.node || (d.ended ? 'call ended' : '–');
    $('sim-node').dataset.node = d.node || '';
    $('sim-score').textContent = typeof d.hesitation_score === 'number' ? d.hesitation_score.toFixed(2) : '–';
    markCurrentNode(d.node);
    const log = $('sim-log');
    log.replaceChildren(...(d.events || []).map((e) => el('li', { class: `ev-${e.type}`, 'data-type': e.type },
      el('span', { class: 't', text: typeof e.t === 'number' ? `${e.t.toFixed(1)} s` : '' }), el('span', { text: describe(e) }))));
    log.scrollTop = log.scrollHeight;
    const transfer = (d.events || []).filter((e) => e.type === 'transfer').pop();
    const outcome = d.outcome && d.outcome.outcome === 'transfer' ? d.outcome : null;
    const reason = (outcome && outcome.reason) || (transfer && transfer.reason) || null;
    const esc = $('sim-escalation');
    esc.hidden = !(transfer || outcome);
    esc.dataset.reason = reason || '';
    $('sim-reason').textContent = reason ? `${reason} (${REASONS[reason] || reason})` : 'the plan\'s own transfer';
    const queue = (outcome && outcome.queue) || (transfer && transfer.queue);
    $('sim-queue').textContent = queue ? ` → queue ${queue}` : '';
    $('sim-summary').textContent = (transfer && transfer.summary) || (outcome && outcome.summary) || '';
  }

  async function runSim() {
    if (!state.plan) return true;
    const seq = ++state.simSeq;
    const r = await request('/api/operator/simulate', {
      method: 'POST',
      body: { name: state.plan.name, source: cm.getValue(), script: state.script.join('\n'), at: $('sim-at').value, caller: $('sim-caller').value },
    });
    if (seq !== state.simSeq) return true;
    const err = $('sim-error');
    if (!r.ok) {
      const planBroken = r.data && Array.isArray(r.data.diagnostics) && r.data.diagnostics.length;
      err.textContent = planBroken ? `The plan has errors; fix them to simulate. (${r.data.error})` : `${(r.data && r.data.error) || `HTTP ${r.status}`}`;
      err.hidden = false;
      return !!planBroken; // keep the caller's line when only the plan is at fault
    }
    err.hidden = true;
    renderSim(r.data);
    return true;
  }

  async function simAdd(line) {
    if (!state.plan) return;
    state.script.push(line);
    const kept = await runSim();
    if (!kept) state.script.pop();
  }

  function resetSim(run = true) {
    state.script = [];
    state.sim = null;
    $('sim-log').replaceChildren();
    $('sim-escalation').hidden = true;
    $('sim-error').hidden = true;
    $('sim-node').textContent = '–';
    $('sim-score').textContent = '–';
    markCurrentNode(null);
    if (run && state.plan) runSim();
  }

  // ---- publish, versions, diff, rollback -------------------------------------------------

  async function publish() {
    const source = cm.getValue();
    $('btn-publish').disabled = true;
    const r = await request(`/api/operator/plans/${encodeURIComponent(state.plan.name)}/publish`, { method: 'POST', body: { source } });
    if (r.ok) {
      setResult('publish-result', `Published version ${r.data.version_id}; it answers new calls now.`, true, { 'data-version': r.data.version_id });
      await refreshPlan();
    } else {
      if (r.data && r.data.diagnostics) showDiagnostics(r.data.diagnostics);
      setResult('publish-result', `Not published: ${(r.data && r.data.error) || `HTTP ${r.status}`}`, false, { 'data-version': '' });
    }
    updateButtons();
  }

  function renderVersions() {
    const vs = state.plan.versions || [];
    const pick = (name, fallback) => {
      const cur = document.querySelector(`#versions input[name=${name}]:checked`);
      const id = cur ? Number(cur.value) : fallback;
      return vs.some((v) => v.id === id) ? id : fallback;
    };
    const to = pick('to', vs[0] && vs[0].id);
    const from = pick('from', vs[1] ? vs[1].id : vs[0] && vs[0].id);
    $('versions').tBodies[0].replaceChildren(...vs.map((v) => el('tr', { 'data-version': v.id, class: v.live ? 'live' : '' },
      el('td', {}, `v${v.id}`, v.live ? el('span', { class: 'live-mark', text: '● live' }) : null),
      el('td', { text: when(v.created_at_ms), title: v.sha256 }),
      el('td', { text: v.published_at_ms ? `${when(v.published_at_ms)}${v.published_by ? ` by ${v.published_by}` : ''}` : 'from the file' }),
      el('td', {}, el('input', { type: 'radio', name: 'from', value: v.id, checked: v.id === from, 'aria-label': `diff from v${v.id}` })),
      el('td', {}, el('input', { type: 'radio', name: 'to', value: v.id, checked: v.id === to, 'aria-label': `diff to v${v.id}` })),
      el('td', {}, v.live ? null : el('button', { type: 'button', class: 'rollback', 'data-version': v.id, text: `Make v${v.id} live`, onclick: () => rollback(v.id) })))));
    $('btn-diff').disabled = vs.length < 2;
  }

  async function showDiff() {
    const from = document.querySelector('#versions input[name=from]:checked');
    const to = document.querySelector('#versions input[name=to]:checked');
    if (!from || !to) return;
    const d = await api(`/api/operator/plans/${encodeURIComponent(state.plan.name)}/diff?from=${from.value}&to=${to.value}`);
    const box = $('diff');
    const rows = [el('div', { class: 'head', text: `v${d.from} → v${d.to}: ${d.lines.filter((l) => l.op === '+').length} added, ${d.lines.filter((l) => l.op === '-').length} removed` })];
    // Changed lines with 3 lines of context; the rest folds into "…".
    const near = d.lines.map(() => false);
    d.lines.forEach((l, i) => { if (l.op !== ' ') for (let k = Math.max(0, i - 3); k <= Math.min(d.lines.length - 1, i + 3); k++) near[k] = true; });
    let gap = false;
    d.lines.forEach((l, i) => {
      if (!near[i]) { if (!gap) rows.push(el('div', { class: 'gap', text: '…' })); gap = true; return; }
      gap = false;
      rows.push(el('div', { class: `ln ${l.op === '+' ? 'add' : l.op === '-' ? 'del' : 'ctx'}`, 'data-op': l.op },
        el('span', { class: 'n', text: l.old || '' }), el('span', { class: 'n', text: l.new || '' }),
        el('span', { text: l.op }), el('span', { class: 'text', text: l.text })));
    });
    box.replaceChildren(...rows);
    box.hidden = false;
    box.dataset.from = d.from;
    box.dataset.to = d.to;
  }

  async function rollback(id) {
    const r = await request(`/api/operator/plans/${encodeURIComponent(state.plan.name)}/rollback`, { method: 'POST', body: { version_id: id } });
    if (!r.ok) { setResult('version-result', `Rollback refused: ${(r.data && r.data.error) || `HTTP ${r.status}`}`, false); return; }
    await refreshPlan();
    cm.setValue(state.liveSource);
    await runCheck();
    // Said last, so that whoever waits for it sees the editor, versions and plan list updated.
    setResult('version-result', `Version ${r.data.live_version_id} is live again; new calls run it.`, true, { 'data-live': r.data.live_version_id });
  }

  // ---- prompts ---------------------------------------------------------------------------

  function audioUrl(lang, name, bust) {
    return `/api/operator/prompts/${lang}/${encodeURIComponent(name)}/audio${bust ? `?v=${bust}` : ''}`;
  }

  function promptRow(lang, p) {
    const msg = el('span', { class: 'msg', role: 'status' });
    const text = el('input', { type: 'text', value: lang === 'zh' ? (p.pinyin || p.text || '') : (p.text || ''), 'aria-label': `text of ${p.name}`, title: p.text || '' });
    const player = el('audio', { controls: true, preload: 'none', src: audioUrl(lang, p.name) });
    const file = el('input', { type: 'file', accept: '.wav,audio/wav,audio/x-wav', 'aria-label': `upload a WAV for ${p.name}` });
    const len = el('td', { class: 'len' });
    const show = (info) => {
      len.textContent = typeof info.duration_s === 'number' ? `${info.duration_s.toFixed(2)} s` : '?';
      len.title = info.sample_rate ? `${info.sample_rate} Hz, ${info.channels === 1 ? 'mono' : `${info.channels} channels`}, ${info.bits}-bit` : '';
      len.dataset.seconds = info.duration_s || 0;
      len.dataset.rate = info.sample_rate || '';
    };
    show(p);
    const done = (r, what) => {
      if (r.ok) {
        show(r.data);
        player.src = audioUrl(lang, p.name, Date.now());
        msg.textContent = `${what} · ${r.data.duration_s.toFixed(2)} s, 8 kHz mono`;
        msg.className = 'msg ok';
      } else {
        msg.textContent = (r.data && r.data.error) || `HTTP ${r.status}`;
        msg.className = 'msg bad';
      }
    };
    file.addEventListener('change', async () => {
      const f = file.files && file.files[0];
      if (!f) return;
      msg.textContent = 'Uploading…'; msg.className = 'msg';
      done(await request(`/api/operator/prompts/${lang}/${encodeURIComponent(p.name)}`, { method: 'POST', body: f, headers: { 'Content-Type': 'audio/wav' } }), 'Replaced');
      file.value = '';
    });
    const regen = el('button', { type: 'button', class: 'regen', text: 'Regenerate from text', onclick: async () => {
      msg.textContent = 'Synthesising…'; msg.className = 'msg';
      done(await request(`/api/operator/prompts/${lang}/${encodeURIComponent(p.name)}/tts`, { method: 'POST', body: { text: text.value } }), 'Regenerated');
    } });
    return el('tr', { 'data-prompt': p.name },
      el('td', { class: 'pname', text: p.name }),
      el('td', {}, text),
      len,
      el('td', {}, player),
      el('td', {}, el('div', { class: 'replace' }, file, regen), msg));
  }

  async function loadPrompts() {
    const d = await api('/api/operator/prompts');
    for (const l of d.languages) {
      const table = $(`prompts-${l.language}`);
      if (table) table.tBodies[0].replaceChildren(...l.prompts.map((p) => promptRow(l.language, p)));
    }
  }

  function showLang(lang) {
    state.lang = lang;
    for (const b of document.querySelectorAll('.tabs button')) b.setAttribute('aria-pressed', String(b.dataset.lang === lang));
    for (const t of document.querySelectorAll('table.prompts')) t.hidden = t.dataset.lang !== lang;
  }

  // ---- start -----------------------------------------------------------------------------

  async function logout() {
    try {
      await fetch('/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': state.me ? state.me.csrf : '' } });
    } finally {
      location.href = '/login';
    }
  }

  function wire() {
    $('btn-logout').addEventListener('click', logout);
    $('btn-publish').addEventListener('click', publish);
    $('btn-revert').addEventListener('click', () => { cm.setValue(state.liveSource); });
    $('btn-diff').addEventListener('click', showDiff);
    $('sim-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('sim-input').value.trim();
      if (!t) return;
      $('sim-input').value = '';
      simAdd(`say ${t}`);
    });
    for (const b of document.querySelectorAll('#keypad button')) b.addEventListener('click', () => simAdd(`dtmf ${b.dataset.digit}`));
    $('btn-silence').addEventListener('click', () => simAdd('silence 8'));
    $('btn-sim-reset').addEventListener('click', () => resetSim(true));
    for (const id of ['sim-at', 'sim-caller']) $(id).addEventListener('change', () => runSim());
    for (const b of document.querySelectorAll('.tabs button')) b.addEventListener('click', () => showLang(b.dataset.lang));
  }

  async function main() {
    wire();
    try {
      state.me = await api('/api/me');
      $('who').textContent = state.me.name;
      await loadPlans();
    } catch (e) {
      notice(`Could not load the plans: ${e.message}`);
      return;
    }
    loadPrompts().catch((e) => notice(`Could not load the prompts: ${e.message}`));
    const wanted = /plan=([^&]+)/.exec(location.hash);
    const first = wanted ? decodeURIComponent(wanted[1]) : (state.plans[0] && state.plans[0].name);
    if (first && state.plans.some((p) => p.name === first)) await openPlan(first);
    document.body.dataset.ready = 'true';
  }

  operator.openPlan = openPlan;
  operator.runCheck = runCheck;
  operator.reloadPrompts = loadPrompts;
  main();
})();
