// humanline agent console: status, WebRTC softphone, screen pop, notes and messages.
// Talks to /ws/agent (JSON frames) and the REST API; builds every element from data with
// textContent, never innerHTML. Tests read `window.humanline` ({ pc, state, ws, events }).
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  const REASONS = {
    zero_out: 'Pressed 0 for a person',
    human_request: 'Asked for a person',
    hesitation: 'Seemed unsure (hesitation)',
    retries: 'The line could not understand after several tries',
    fault: 'A technical fault on the line',
    guard: 'Too long in the menus, or went round in a loop',
    routed: 'Sent to a person by the menu',
  };
  const STATUS_WORDS = {
    offline: 'Offline', ready: 'Ready', away: 'Away', ringing: 'Ringing', busy: 'On a call', wrap_up: 'Wrap-up',
  };
  const OUTCOMES = { transfer: 'Handed to a person', hangup: 'Caller hung up', completed: 'Finished in the IVR' };

  const state = {
    me: null,          // { name, role, csrf }
    status: 'offline', // from the server
    wrapUntil: null,   // ms since the epoch
    call: null,        // { id, sdp, pop, phase: ringing|connecting|talking|ended|missed }
    muted: false,
    connected: false,
  };
  const humanline = { pc: null, state, ws: null, events: [] };
  window.humanline = humanline;

  // ---- small helpers -------------------------------------------------------------------------

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function callTime(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  }
  function seconds(s) {
    if (s === null || s === undefined || Number.isNaN(s)) return '–';
    s = Math.round(s);
    return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
  }
  function when(ms) {
    if (!ms) return '';
    const d = new Date(ms);
    const today = new Date();
    const sameDay = d.toDateString() === today.toDateString();
    return sameDay ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
      : d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
  }
  function callerName(c) {
    if (!c) return 'Unknown caller';
    const m = /^(?:"?([^"<]*)"?\s*)?<?sips?:([^@;>]+)/.exec(c);
    if (!m) return c;
    const name = (m[1] || '').trim();
    return name ? `${name} (${m[2]})` : m[2];
  }
  function notice(text) {
    const n = $('notice');
    n.textContent = text || '';
    n.hidden = !text;
  }
  async function api(path, opts = {}) {
    const headers = Object.assign({}, opts.headers || {});
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.method && opts.method !== 'GET' && state.me) headers['X-CSRF-Token'] = state.me.csrf;
    const r = await fetch(path, {
      method: opts.method || 'GET', headers, credentials: 'same-origin',
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    if (r.status === 401) { location.href = `/login?next=${encodeURIComponent(location.pathname)}`; throw new Error('signed out'); }
    let data = null;
    try { data = await r.json(); } catch (_) { data = null; }
    if (!r.ok) throw new Error((data && data.error) || `HTTP ${r.status}`);
    return data;
  }

  // ---- ring tone (WebAudio, no file) ---------------------------------------------------------

  let audioCtx = null;
  let ringTimer = null;
  function audio() {
    if (!audioCtx) {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (!AC) return null;
      audioCtx = new AC();
    }
    if (audioCtx.state === 'suspended') audioCtx.resume().catch(() => {});
    return audioCtx;
  }
  function burst(ctx, at, length) {
    const gain = ctx.createGain();
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.15, at + 0.02);
    gain.gain.setValueAtTime(0.15, at + length - 0.03);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + length);
    gain.connect(ctx.destination);
    for (const f of [440, 480]) {
      const o = ctx.createOscillator();
      o.frequency.value = f;
      o.connect(gain);
      o.start(at);
      o.stop(at + length);
    }
  }
  function ringOnce() {
    const ctx = audio();
    if (!ctx) return;
    const t = ctx.currentTime + 0.05;
    burst(ctx, t, 0.4);
    burst(ctx, t + 0.6, 0.4);
  }
  function startRing() {
    if (ringTimer) return;
    ringOnce();
    ringTimer = setInterval(ringOnce, 3000);
  }
  function stopRing() {
    if (ringTimer) clearInterval(ringTimer);
    ringTimer = null;
  }

  // ---- WebSocket -----------------------------------------------------------------------------

  let retry = 1000;
  function connect() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/agent`;
    const ws = new WebSocket(url);
    humanline.ws = ws;
    ws.onopen = () => { retry = 1000; state.connected = true; render(); };
    ws.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch (_) { return; }
      humanline.events.push(msg);
      if (humanline.events.length > 200) humanline.events.shift();
      onServer(msg);
    };
    ws.onclose = () => {
      state.connected = false;
      if (humanline.ws === ws) humanline.ws = null;
      state.status = 'offline';
      if (state.call && state.call.phase === 'ringing') endCall('missed', 'The connection dropped while the call rang.');
      render();
      setTimeout(async () => {
        try { await loadMe(); } catch (_) { /* api() redirects when signed out */ }
        connect();
      }, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }
  function send(msg) {
    const ws = humanline.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) { notice('Not connected to the server; try again in a moment.'); return false; }
    ws.send(JSON.stringify(msg));
    return true;
  }

  function onServer(msg) {
    switch (msg.type) {
      case 'hello':
        if (!msg.queues || msg.queues.length === 0) {
          notice(`${msg.name} answers no queue, so no calls will ring here. Ask an administrator to add you to a queue.`);
        } else {
          notice('');
          $('who').textContent = `${msg.name} · ${msg.queues.join(', ')}`;
        }
        fillTransferTargets(msg.transfer_queues || [], msg.transfer_agents || []);
        break;
      case 'status':
        state.status = msg.status;
        state.wrapUntil = msg.wrap_up_until_ms || null;
        break;
      case 'offer':
        onOffer(msg);
        break;
      case 'cancel':
        if (state.call && state.call.id === msg.call_id && state.call.phase !== 'talking') {
          endCall('missed', 'The caller hung up or the call went to someone else.');
        }
        break;
      case 'ended':
        if (state.call && state.call.id === msg.call_id && state.call.phase !== 'ended') {
          if (msg.by === 'transfer') {
            const to = state.consult ? state.consult.agent : 'your colleague';
            state.consult = null;
            endCall('ended', `You handed the caller to ${to}.`);
            break;
          }
          const by = msg.by === 'agent' ? 'you' : msg.by === 'caller' ? 'the caller' : 'the line';
          endCall('ended', `Call ended by ${by}.`);
        }
        break;
      case 'consult':
        if (state.call && state.call.id === msg.call_id) {
          state.consult = { agent: msg.agent, state: msg.state, why: msg.why };
          if (msg.state === 'failed') notice(`Could not consult ${msg.agent}: ${msg.why}.`);
        }
        break;
      case 'error':
        notice(msg.message);
        break;
      default:
        break;
    }
    render();
  }

  // ---- the call ------------------------------------------------------------------------------

  function onOffer(msg) {
    if (state.call && (state.call.phase === 'talking' || state.call.phase === 'connecting')) {
      send({ type: 'decline', call_id: msg.call_id });
      return;
    }
    const prev = state.call;
    if (prev && prev.talkingSince && $('notes').value && prev.notesDirty !== false) {
      // Notes typed for the last call and never saved go with it before the screen changes.
      postNotes(prev.id, $('notes').value, () => {});
    }
    state.call = { id: msg.call_id, sdp: msg.sdp, pop: msg.pop || {}, phase: 'ringing', offeredAt: Date.now() };
    state.consult = null;
    $('notes').value = '';
    $('notes-saved').textContent = '';
    renderPop();
    startRing();
  }

  function waitIce(pc, ms) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { clearTimeout(t); pc.removeEventListener('icegatheringstatechange', check); resolve(); };
      const check = () => { if (pc.iceGatheringState === 'complete') done(); };
      const t = setTimeout(done, ms);
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  async function accept() {
    const call = state.call;
    if (!call || call.phase !== 'ringing') return;
    audio();
    stopRing();
    call.phase = 'connecting';
    render();
    let pc = null;
    try {
      pc = new RTCPeerConnection();
      humanline.pc = pc;
      call.pc = pc;
      pc.ontrack = (e) => {
        const a = $('remote-audio');
        a.srcObject = (e.streams && e.streams[0]) || new MediaStream([e.track]);
        a.play().catch(() => {});
      };
      pc.onconnectionstatechange = () => {
        if (state.call === call && call.phase === 'talking' && pc.connectionState === 'failed') {
          notice('The audio connection failed.');
          hangUp();
        }
        render();
      };
      const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      call.mic = mic;
      if (state.call !== call || call.phase !== 'connecting') { closeMedia(call); return; }
      await pc.setRemoteDescription({ type: 'offer', sdp: call.sdp });
      for (const track of mic.getAudioTracks()) pc.addTrack(track, mic);
      await pc.setLocalDescription(await pc.createAnswer());
      await waitIce(pc, 3000);
      if (state.call !== call || call.phase !== 'connecting') { closeMedia(call); return; }
      if (!send({ type: 'answer', call_id: call.id, sdp: pc.localDescription.sdp })) throw new Error('not connected');
      call.phase = 'talking';
      call.talkingSince = Date.now();
      state.muted = false;
    } catch (e) {
      notice(`Could not take the call: ${e.message || e}. Check the microphone permission.`);
      send({ type: 'decline', call_id: call.id });
      closeMedia(call);
      endCall('missed', 'The call could not be connected.');
    }
    render();
  }

  function decline() {
    const call = state.call;
    if (!call || call.phase !== 'ringing') return;
    send({ type: 'decline', call_id: call.id });
    endCall('missed', 'You declined the call.');
    render();
  }

  function hangUp() {
    const call = state.call;
    if (!call || (call.phase !== 'talking' && call.phase !== 'connecting')) return;
    send({ type: 'hangup', call_id: call.id });
    endCall('ended', 'You hung up.');
    render();
  }

  // ---- passing the caller on ------------------------------------------------------------------

  // Queues by name; agents as `agent:NAME` (rung alone at first, then the caller's queue).
  function fillTransferTargets(queues, agents) {
    const sel = $('transfer-queue');
    clear(sel);
    const group = (label, names, prefix) => {
      if (!names.length) return;
      const g = el('optgroup');
      g.label = label;
      for (const n of names) {
        const o = el('option', n);
        o.value = prefix + n;
        g.append(o);
      }
      sel.append(g);
    };
    group('Queues', queues, '');
    group('Agents', agents, 'agent:');
  }

  /** Passes the caller being talked to to the chosen queue or agent, with the notes typed so far. */
  function transfer() {
    const call = state.call;
    const target = $('transfer-queue').value;
    if (!call || call.phase !== 'talking' || !target) return;
    const notes = $('notes').value;
    const agent = target.startsWith('agent:') ? target.slice(6) : null;
    const frame = agent ? { type: 'transfer', call_id: call.id, agent, notes }
      : { type: 'transfer', call_id: call.id, queue: target, notes };
    if (!send(frame)) return;
    endCall('ended', `You passed the caller to ${agent || target}.`);
    render();
  }

  // Attended transfer: the caller waits with music while the chosen agent's phone rings and
  // you talk; then Complete transfer hands the caller over, or Back to the caller.
  function consult() {
    const call = state.call;
    const target = $('transfer-queue').value;
    if (!call || call.phase !== 'talking' || !target.startsWith('agent:')) {
      notice('Choose an agent (not a queue) to consult.');
      return;
    }
    const agent = target.slice(6);
    if (send({ type: 'consult', call_id: call.id, agent })) {
      state.consult = { agent, state: 'asking', why: '' };
      render();
    }
  }

  function endConsult(complete) {
    const call = state.call;
    if (!call || !state.consult) return;
    send({ type: 'consult_end', call_id: call.id, complete });
    if (!complete) state.consult = null;
    render();
  }

  function renderConsult() {
    const c = state.consult;
    const on = !!c && state.call && state.call.phase === 'talking' && c.state !== 'ended' && c.state !== 'failed';
    $('consult').hidden = !on;
    if (!on) return;
    const words = { asking: 'Calling', ringing: 'Ringing', talking: 'Talking to' };
    $('consult-state').textContent = `${words[c.state] || c.state} ${c.agent}. The caller is on hold.`;
    $('btn-consult-complete').disabled = c.state !== 'talking';
  }

  function toggleMute() {
    const call = state.call;
    if (!call || !call.mic) return;
    state.muted = !state.muted;
    for (const t of call.mic.getAudioTracks()) t.enabled = !state.muted;
    render();
  }

  function closeMedia(call) {
    if (call.mic) for (const t of call.mic.getTracks()) t.stop();
    if (call.pc) { try { call.pc.close(); } catch (_) { /* already closed */ } }
    $('remote-audio').srcObject = null;
  }

  function endCall(phase, why) {
    const call = state.call;
    if (!call) return;
    stopRing();
    closeMedia(call);
    call.phase = phase;
    call.why = why;
    state.muted = false;
    // After a missed call there is nothing to note, unless the agent already wrote some while it
    // rang: then, as after a real call, the pop and the notes stay to be finished and saved.
    const wroteNotes = Boolean(call.notesVersion || $('notes').value);
    if (phase === 'missed' && !call.talkingSince && !wroteNotes) {
      state.call = null;
      state.lastMessage = why;
      renderPop();
    } else if (phase === 'missed') {
      call.phase = 'ended';
    }
  }

  // ---- notes ---------------------------------------------------------------------------------

  // A call's record exists once the call is over, so notes saved during the call are sent
  // again every 2 s until the record is there (for up to a minute). `report` shows progress.
  async function postNotes(callId, text, report, tries = 0) {
    try {
      await api(`/api/calls/${encodeURIComponent(callId)}/notes`, { method: 'POST', body: { notes: text } });
      report('saved');
    } catch (e) {
      if (/no such call/.test(e.message) && tries < 30) {
        report('pending');
        setTimeout(() => postNotes(callId, text, report, tries + 1), 2000);
      } else {
        report('failed', e.message);
      }
    }
  }

  function saveNotes() {
    const call = state.call;
    if (!call) return;
    const out = $('notes-saved');
    const text = $('notes').value;
    const version = (call.notesVersion || 0) + 1;
    call.notesVersion = version;
    call.notesDirty = true;
    out.className = 'saved';
    out.textContent = 'Saving…';
    postNotes(call.id, text, (how, why) => {
      // Only the newest save of the call on screen speaks.
      if (state.call !== call || call.notesVersion !== version) return;
      if (how === 'saved') {
        call.notesDirty = false;
        out.className = 'saved';
        out.textContent = `Saved ${new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })}`;
      } else if (how === 'pending') {
        out.className = 'saved';
        out.textContent = 'Kept: saved as soon as the call is over';
      } else {
        out.className = 'saved bad';
        out.textContent = `Not saved: ${why}`;
      }
    });
  }

  // ---- messages ------------------------------------------------------------------------------

  async function loadMessages() {
    let data;
    try { data = await api('/api/messages'); } catch (_) { return; }
    const list = $('message-list');
    clear(list);
    const items = (data && data.messages) || [];
    const open = items.filter((m) => !m.done_by).length;
    $('messages-count').textContent = items.length ? `(${open} to do)` : '';
    $('messages-empty').hidden = items.length > 0;
    for (const m of items) {
      const li = el('li');
      li.dataset.callId = m.id;
      if (m.done_by) li.classList.add('done');
      const head = el('div', null, 'head');
      head.append(el('span', callerName(m.caller)), el('span', when(m.started_at_ms), 'muted'),
        el('span', REASONS[m.reason] || m.reason || '', 'muted'));
      li.append(head);
      li.append(el('p', m.message_text ? `“${m.message_text}”` : 'Not transcribed: listen to the message.', 'text'));
      const player = el('audio');
      player.controls = true;
      player.preload = 'none';
      player.src = `/api/calls/${encodeURIComponent(m.id)}/message`;
      li.append(player);
      if (m.done_by) {
        li.append(el('p', `Done by ${m.done_by}`, 'muted'));
      } else {
        const b = el('button', 'Mark done');
        b.type = 'button';
        b.addEventListener('click', async () => {
          b.disabled = true;
          try {
            await api(`/api/messages/${encodeURIComponent(m.id)}/done`, { method: 'POST', body: {} });
          } catch (e) { notice(`Could not mark the message done: ${e.message}`); }
          loadMessages();
        });
        li.append(b);
      }
      list.append(li);
    }
  }

  // ---- callbacks -----------------------------------------------------------------------------

  async function loadCallbacks() {
    let data;
    try { data = await api('/api/callbacks'); } catch (_) { return; }
    const items = (data && data.callbacks) || [];
    const open = items.filter((c) => c.state !== 'done').length;
    $('callbacks-count').textContent = items.length ? `(${open} open)` : '';
    $('callbacks-empty').hidden = items.length > 0;
    const list = $('callback-list');
    clear(list);
    for (const c of items) {
      const li = el('li');
      li.dataset.callback = c.id;
      if (c.state === 'done') li.classList.add('done');
      const head = el('div', null, 'head');
      head.append(el('span', c.number), el('span', when(c.booked_at_ms), 'muted'),
        el('span', c.state_text, 'muted'));
      li.append(head);
      li.append(el('p', c.reason_text || c.summary || '', 'text'));
      if (c.attempts) li.append(el('p', `${c.attempts} tr${c.attempts === 1 ? 'y' : 'ies'}: ${c.outcome}`, 'muted'));
      list.append(li);
    }
  }

  // ---- rendering -----------------------------------------------------------------------------

  function renderPop() {
    const call = state.call;
    $('pop-empty').hidden = !!call;
    $('pop-body').hidden = !call;
    if (!call) return;
    const p = call.pop || {};
    $('pop-caller').textContent = callerName(p.caller_display || p.caller);
    $('pop-elderly').hidden = !p.elderly;
    $('pop-elderly-why').textContent = p.elderly && p.elderly_reason ? ' Why: ' + p.elderly_reason + '.' : '';
    const vars = $('pop-vars');
    clear(vars);
    for (const [k, v] of Object.entries(p.vars || {})) {
      const d = el('div');
      d.append(el('dt', k.replace(/_/g, ' ')), el('dd', v));
      vars.append(d);
    }
    $('pop-language').textContent = p.language === 'zh' ? 'Chinese (zh)' : p.language === 'en' ? 'English (en)' : (p.language || '–');
    $('pop-queue').textContent = p.queue || '–';
    call.waitedBase = typeof p.waited_s === 'number' ? p.waited_s : 0;
    $('pop-waited').textContent = seconds(call.waitedBase);
    $('pop-reason').textContent = p.reason_text || REASONS[p.reason] || p.reason || '–';
    const signals = $('pop-signals');
    clear(signals);
    for (const s of p.signals || []) signals.append(el('li', s));
    const handed = p.handed_over || [];
    $('pop-handed').hidden = handed.length === 0;
    const hl = $('pop-handed-list');
    clear(hl);
    for (const h of handed) {
      hl.append(el('li', `${h.agent} (${h.queue})${h.notes ? ': ' + h.notes : ''}`));
    }
    const path = $('pop-path');
    clear(path);
    for (const n of p.path || []) path.append(el('li', n));
    const tr = $('pop-transcript');
    clear(tr);
    for (const t of p.transcript || []) {
      const li = el('li', null, t.speaker === 'caller' ? 'caller' : 'line');
      li.append(el('span', callTime(t.at_ms || 0), 't'), el('span', t.speaker === 'caller' ? 'Caller' : 'Line', 'who'),
        el('span', t.text));
      tr.append(li);
    }
    const earlier = p.earlier_calls || [];
    $('pop-earlier-none').hidden = earlier.length > 0;
    $('pop-earlier').hidden = earlier.length === 0;
    const tbody = $('pop-earlier').tBodies[0];
    clear(tbody);
    for (const c of earlier) {
      const row = el('tr');
      row.append(el('td', when(c.started_at_ms)), el('td', REASONS[c.reason] || c.reason || '–'),
        el('td', OUTCOMES[c.outcome] || c.outcome || '–'));
      tbody.append(row);
    }
  }

  function render() {
    const word = state.status;
    const pill = $('status-word');
    pill.textContent = STATUS_WORDS[word] || word;
    pill.className = `pill pill-${word}`;
    $('btn-ready').setAttribute('aria-pressed', String(word === 'ready'));
    $('btn-away').setAttribute('aria-pressed', String(word === 'away'));
    $('btn-ready').disabled = !state.connected;
    $('btn-away').disabled = !state.connected;
    renderWrapUp();
    const conn = $('conn');
    conn.textContent = state.connected ? 'Connected' : 'Not connected: retrying…';
    conn.classList.toggle('bad', !state.connected);

    const call = state.call;
    const phase = call ? call.phase : 'idle';
    $('ringing').hidden = phase !== 'ringing';
    if (call) $('ring-caller').textContent = callerName(call.pop && (call.pop.caller_display || call.pop.caller));
    $('btn-accept').hidden = phase !== 'ringing';
    // A callback: answering places the call to the customer.
    $('btn-accept').textContent = call && call.pop && call.pop.callback ? 'Call now' : 'Accept';
    $('btn-decline').hidden = phase !== 'ringing';
    // On a warm queue the pop is the brief: the agent takes the caller or passes them on.
    $('btn-decline').textContent = call && call.pop && call.pop.warm ? 'Pass' : 'Decline';
    $('btn-mute').hidden = phase !== 'talking';
    $('btn-hangup').hidden = phase !== 'talking' && phase !== 'connecting';
    $('transfer').hidden = phase !== 'talking' || $('transfer-queue').options.length === 0
      || !!(state.consult && state.consult.state !== 'ended' && state.consult.state !== 'failed');
    renderConsult();
    $('btn-mute').setAttribute('aria-pressed', String(state.muted));
    $('btn-mute').textContent = state.muted ? 'Unmute' : 'Mute';
    let text;
    switch (phase) {
      case 'ringing': text = 'Ringing: read the caller on the right, then accept.'; break;
      case 'connecting': text = 'Connecting the audio…'; break;
      case 'talking': text = `On the call${state.muted ? ' (muted)' : ''} · ${callTime(Date.now() - call.talkingSince)}`; break;
      case 'ended': text = `${call.why} Finish your notes.`; break;
      default:
        text = state.lastMessage ? `${state.lastMessage} ` : '';
        text += word === 'ready' ? 'Waiting for a call.' : 'No call. Press Ready to take calls.';
    }
    $('phone-state').textContent = text;
  }

  function renderWrapUp() {
    const w = $('wrapup');
    if (state.status === 'wrap_up' && state.wrapUntil) {
      w.hidden = false;
      $('wrapup-left').textContent = String(Math.max(0, Math.ceil((state.wrapUntil - Date.now()) / 1000)));
    } else {
      w.hidden = true;
    }
  }

  function tick() {
    renderWrapUp();
    const call = state.call;
    if (call && call.phase === 'ringing') {
      $('pop-waited').textContent = seconds(call.waitedBase + (Date.now() - call.offeredAt) / 1000);
    }
    if (call && call.phase === 'talking') render();
  }

  // ---- start ---------------------------------------------------------------------------------

  async function loadMe() {
    state.me = await api('/api/me');
    if (!$('who').textContent || $('who').textContent === '…') $('who').textContent = state.me.name;
  }

  async function logout() {
    try {
      await fetch('/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': state.me ? state.me.csrf : '' } });
    } finally {
      location.href = '/login';
    }
  }

  function wire() {
    $('btn-ready').addEventListener('click', () => { audio(); state.lastMessage = ''; send({ type: 'status', status: 'ready' }); });
    $('btn-away').addEventListener('click', () => { state.lastMessage = ''; send({ type: 'status', status: 'away' }); });
    $('btn-accept').addEventListener('click', accept);
    $('btn-decline').addEventListener('click', decline);
    $('btn-hangup').addEventListener('click', hangUp);
    $('btn-transfer').addEventListener('click', transfer);
    $('btn-consult').addEventListener('click', consult);
    $('btn-consult-complete').addEventListener('click', () => endConsult(true));
    $('btn-consult-back').addEventListener('click', () => endConsult(false));
    $('btn-mute').addEventListener('click', toggleMute);
    $('btn-save-notes').addEventListener('click', saveNotes);
    $('notes').addEventListener('input', () => {
      if (state.call) state.call.notesDirty = true;
      $('notes-saved').textContent = 'Not saved yet';
      $('notes-saved').className = 'saved bad';
    });
    $('btn-logout').addEventListener('click', logout);
  }

  async function main() {
    wire();
    render();
    try { await loadMe(); } catch (e) { notice(`Could not read your account: ${e.message}`); return; }
    connect();
    loadMessages();
    setInterval(loadMessages, 30000);
    loadCallbacks();
    setInterval(loadCallbacks, 10000);
    setInterval(tick, 500);
  }

  // Replays one server frame as if it came over the socket (debugging; the console test shows
  // a real screen pop this way until call tasks offer calls to consoles).
  humanline.handle = onServer;
  humanline.accept = accept;
  humanline.decline = decline;
  humanline.hangUp = hangUp;
  humanline.reloadMessages = loadMessages;
  main();
})();
