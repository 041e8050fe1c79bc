// humanline supervisor board: polls /api/supervisor every 2 s and draws the figures, the
// escalations chart (inline SVG) and the tables. Text only through textContent.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  const REASONS = {
    zero_out: 'Pressed 0',
    human_request: 'Asked for a person',
    hesitation: 'Hesitation',
    retries: 'Not understood (retries)',
    fault: 'Technical fault',
    guard: 'Too long in the menus or a loop',
  };
  const CALL_STATES = {
    ivr: 'In the IVR', queued: 'Waiting in queue', ringing_agent: 'Ringing an agent', bridged: 'With an agent',
    message: 'Leaving a message',
  };
  const AGENT_STATES = {
    offline: 'Offline', ready: 'Ready', away: 'Away', ringing: 'Ringing', busy: 'On a call', wrap_up: 'Wrap-up',
  };
  const REACH = { static: 'SIP (fixed)', sip: 'SIP phone', browser: 'Browser' };
  const MODES = { listen: 'Listen', whisper: 'Whisper', barge: 'Barge' };
  const MODE_WORDS = { listen: 'listening', whisper: 'whispering', barge: 'barging in' };
  let me = null;
  let keepNoticeUntil = 0; // a monitoring answer stays a while through the refreshes

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function clear(n) { while (n.firstChild) n.removeChild(n.firstChild); }
  function secs(s) {
    if (s === null || s === undefined) return '–';
    if (s < 10) return `${s.toFixed(1)} s`;
    if (s < 60) return `${Math.round(s)} s`;
    const m = Math.floor(s / 60);
    return `${m} min ${Math.round(s - m * 60)} s`;
  }
  function callerName(c) {
    const m = /^(?:"?([^"<]*)"?\s*)?<?sips?:([^@;>]+)/.exec(c || '');
    if (!m) return c || 'Unknown';
    const name = (m[1] || '').trim();
    return name ? `${name} (${m[2]})` : m[2];
  }
  function stateCell(word, words) {
    const td = el('td');
    td.append(el('span', words[word] || word, `state state-${word}`));
    return td;
  }
  function notice(text, ok) {
    $('notice').textContent = text || '';
    $('notice').hidden = !text;
    $('notice').classList.toggle('ok', !!ok);
  }

  async function monitor(callId, mode) {
    try {
      const r = await fetch('/api/supervisor/monitor', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me ? me.csrf : '' },
        body: JSON.stringify({ call_id: callId, mode }),
      });
      const body = await r.json().catch(() => ({}));
      notice(r.ok ? `Call ${callId}: ${body.result}` : (body.error || `HTTP ${r.status}`), r.ok);
      keepNoticeUntil = Date.now() + 8000;
    } catch (e) {
      notice(`Not sent: ${e.message}`);
    }
    refresh();
  }

  // The "Listen in" cell: who is on the call, and the buttons (a call with an agent only).
  function monitorCell(c) {
    const td = el('td');
    if (c.state !== 'bridged') { td.textContent = '–'; return td; }
    const on = c.monitor;
    if (on) td.append(el('span', `${on.supervisor} ${MODE_WORDS[on.mode] || on.mode}`, 'monitor-state'));
    if (on && me && on.supervisor !== me.name) return td;
    for (const [mode, label] of Object.entries(MODES)) {
      if (on && on.mode === mode) continue;
      const b = el('button', label, 'quiet small');
      b.type = 'button';
      b.dataset.mode = mode;
      b.dataset.call = c.id;
      b.setAttribute('aria-label', `${label}: call with ${c.agent}`);
      b.addEventListener('click', () => monitor(c.id, mode));
      td.append(b);
    }
    if (on) {
      const stop = el('button', 'Stop', 'quiet small');
      stop.type = 'button';
      stop.dataset.mode = 'stop';
      stop.dataset.call = c.id;
      stop.addEventListener('click', () => monitor(c.id, 'stop'));
      td.append(stop);
    }
    return td;
  }

  function drawChart(rows) {
    const box = $('chart');
    clear(box);
    const total = rows.reduce((a, r) => a + r.count, 0);
    $('esc-total').textContent = `(${total})`;
    const max = Math.max(1, ...rows.map((r) => r.count));
    const W = 660; const rowH = 44; const labelW = 250; const barMax = W - labelW - 70;
    const H = rows.length * rowH + 10;
    const chart = svg('svg', {
      viewBox: `0 0 ${W} ${H}`, role: 'img', id: 'escalations-chart',
      'aria-label': `Escalations today: ${rows.map((r) => `${REASONS[r.reason] || r.reason} ${r.count}`).join(', ')}`,
    });
    rows.forEach((r, i) => {
      const y = 5 + i * rowH;
      const w = r.count === 0 ? 2 : Math.max(4, (r.count / max) * barMax);
      const g = svg('g', { class: 'bar', 'data-reason': r.reason, 'data-count': r.count });
      g.append(svg('text', { x: labelW - 10, y: y + 27, 'text-anchor': 'end', 'font-size': 18, fill: '#111' },
        REASONS[r.reason] || r.reason));
      g.append(svg('rect', { x: labelW, y: y + 8, width: w, height: 28, rx: 4, fill: r.count ? '#1447a8' : '#c4c9d1' }));
      g.append(svg('text', { x: labelW + w + 8, y: y + 28, 'font-size': 20, 'font-weight': 700, fill: '#111' }, r.count));
      chart.append(g);
    });
    box.append(chart);
  }

  function fillTable(id, rows, noneId) {
    const tbody = $(id).tBodies[0];
    clear(tbody);
    for (const cells of rows) {
      const tr = el('tr');
      for (const c of cells) tr.append(c instanceof Node ? c : el('td', c));
      tbody.append(tr);
    }
    if (noneId) $(noneId).hidden = rows.length > 0;
    $(id).hidden = noneId ? rows.length === 0 : false;
  }

  function draw(d) {
    const tth = d.time_to_human.spread;
    $('tth-median').textContent = secs(tth.median_s);
    $('tth-p90').textContent = secs(tth.p90_s);
    const ho = d.time_to_handover.spread;
    $('tth-note').textContent = `Time to a person: from the start of the call until an agent was on the line, over ${tth.count} `
      + `finished call${tth.count === 1 ? '' : 's'} today. The line handed callers over after ${secs(ho.median_s)} (median, `
      + `${ho.count} call${ho.count === 1 ? '' : 's'}).`;
    const calls = d.calls || [];
    $('in-ivr').textContent = calls.filter((c) => c.state === 'ivr').length;
    const waiting = (d.queues || []).reduce((a, q) => a + q.waiting.length, 0);
    $('in-queue').textContent = waiting;
    drawChart(d.escalations_today || []);

    fillTable('agents', (d.agents || []).map((a) => [
      a.name, stateCell(a.status, AGENT_STATES), REACH[a.reach] || '–',
      a.status === 'ready' ? secs(a.idle_s) : '–', a.call_id || '–', a.calls_taken,
    ]), 'agents-none');
    fillTable('queues', (d.queues || []).map((q) => [
      q.name, q.staffed ? 'Yes' : 'No one logged in', q.waiting.length,
      q.waiting.length ? secs(Math.max(...q.waiting.map((w) => w.waited_s))) : '–',
    ]));
    fillTable('calls', calls.map((c) => [
      callerName(c.caller) + (c.channel === 'webrtc' ? ' · web phone' : ''), stateCell(c.state, CALL_STATES), c.node || '–',
      REASONS[c.reason] || c.reason || '–', c.agent || '–', secs(c.age_s), monitorCell(c),
    ]), 'calls-none');
    $('updated').textContent = `Updated ${new Date(d.now_ms).toLocaleTimeString()}`;
    $('updated').classList.remove('bad');
  }

  // Callbacks callers booked: waiting for an agent, left to a person (every try failed), done.
  function drawCallbacks(list) {
    fillTable('callbacks', list.map((c) => [
      c.number, c.queue, stateCell(c.state, { [c.state]: c.state_text }),
      c.attempts, c.agent || '–', c.reason_text || '–', new Date(c.booked_at_ms).toLocaleTimeString(), c.outcome,
    ]), 'callbacks-none');
  }

  async function refresh() {
    try {
      const r = await fetch('/api/supervisor', { credentials: 'same-origin' });
      if (r.status === 401) { location.href = '/login?next=/supervisor'; return; }
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      draw(await r.json());
      const cb = await fetch('/api/callbacks', { credentials: 'same-origin' });
      if (cb.ok) drawCallbacks((await cb.json()).callbacks || []);
      if (Date.now() > keepNoticeUntil) notice('');
    } catch (e) {
      $('updated').textContent = `Not updated: ${e.message}`;
      $('updated').classList.add('bad');
    }
  }

  async function main() {
    $('btn-logout').addEventListener('click', async () => {
      try {
        await fetch('/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': me ? me.csrf : '' } });
      } finally { location.href = '/login'; }
    });
    try {
      const r = await fetch('/api/me', { credentials: 'same-origin' });
      if (r.ok) { me = await r.json(); $('who').textContent = me.name; }
    } catch (_) { /* the board still works */ }
    await refresh();
    setInterval(refresh, 2000);
  }
  main();
})();
