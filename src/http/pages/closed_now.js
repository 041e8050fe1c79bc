// The emergency "closed now" switch of the operator page: shows the line's state and its
// audited history, closes the line (with a reason) or opens it again.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  let me = null;
  let closed = false;

  async function call(method, body) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && me) headers['X-CSRF-Token'] = me.csrf;
    const r = await fetch('/api/operator/closed-now', { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
    let data = null;
    try { data = await r.json(); } catch (_) { data = null; }
    if (!r.ok) throw new Error((data && data.error) || `HTTP ${r.status}`);
    return data;
  }

  function show(s) {
    closed = s.closed;
    const st = $('line-state');
    st.textContent = s.closed ? `Closed now: ${s.reason}` : 'Open: the schedules decide';
    st.className = `check ${s.closed ? 'bad' : 'ok'}`;
    $('btn-line').textContent = s.closed ? 'Open the line again' : 'Close the line now';
    $('line-reason').hidden = s.closed;
    $('line-history').replaceChildren(...s.history.map((h) => {
      const li = document.createElement('li');
      const when = new Date(h.changed_at_ms).toLocaleString();
      li.textContent = `${when} · ${h.changed_by || '?'} · ${h.closed ? `closed: ${h.reason}` : 'opened'}`;
      return li;
    }));
  }

  async function refresh() { show(await call('GET')); }

  async function toggle() {
    const st = $('line-state');
    try {
      if (closed) {
        await call('POST', { closed: false });
      } else {
        const reason = $('line-reason').value.trim();
        if (!reason) { st.textContent = 'Say why the line is closed first.'; st.className = 'check bad'; $('line-reason').focus(); return; }
        await call('POST', { closed: true, reason });
        $('line-reason').value = '';
      }
      await refresh();
    } catch (e) {
      st.textContent = `Not changed: ${e.message}`;
      st.className = 'check bad';
    }
  }

  async function main() {
    $('btn-line').addEventListener('click', toggle);
    try {
      const r = await fetch('/api/me', { credentials: 'same-origin' });
      me = await r.json();
      await refresh();
    } catch (e) {
      $('line-state').textContent = `Unknown: ${e.message}`;
    }
  }
  main();
})();
