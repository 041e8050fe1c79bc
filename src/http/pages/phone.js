// humanline web phone: calls a support line over WebRTC through the server's gateway.
//
// Signalling on /ws/phone (JSON): the server offers (PCMU + telephone-event), this page answers
// with the microphone; keys (keypad and "Talk to a person", which sends the line's zero-out key)
// go inside the media as RFC 4733 events through RTCDTMFSender. Caption frames (what the line
// says, what it heard) are shown as they come. Words come from phone_text.js, in the line's
// language or the one the caller picks. `window.phone` exposes the state for tests:
// { pc, ws, events, captions, phase, callId, zeroOut, dtmf, lang }.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const T = window.phoneText;
  const phone = {
    pc: null, ws: null, mic: null, events: [], captions: [], phase: 'idle', callId: '', zeroOut: '0',
    dtmf: [], lang: document.documentElement.lang.startsWith('zh') ? 'zh' : 'en',
  };
  window.phone = phone;
  let status = { key: 'idle', kind: '', why: '' };
  let lineLanguages = {};
  const MAX_CAPTIONS = 100;

  const say = (key, vars) => T.text(phone.lang, key, vars);

  function setStatus(key, kind, why) {
    status = { key, kind: kind || '', why: why || '' };
    showStatus();
  }

  function showStatus() {
    const s = $('status');
    s.textContent = status.key === 'ended'
      ? say('ended', { why: T.why(phone.lang, status.why) })
      : say(status.key);
    s.className = `status ${status.kind}`;
  }

  /** Puts every label in the page's language. */
  function applyLanguage() {
    document.documentElement.lang = T.htmlLang(phone.lang);
    document.title = say('pageTitle');
    for (const el of document.querySelectorAll('[data-text]')) el.textContent = say(el.dataset.text);
    for (const el of document.querySelectorAll('[data-label]')) el.setAttribute('aria-label', say(el.dataset.label));
    const other = $('btn-lang');
    other.textContent = say('otherLanguage');
    other.lang = say('otherLanguageTag');
    for (const o of $('line').options) o.textContent = lineLabel(o.value);
    for (const w of document.querySelectorAll('#captions .who')) {
      w.textContent = say(w.dataset.speaker === 'line' ? 'speakerLine' : 'speakerCaller');
    }
    showPartial();
    showStatus();
  }

  function lineLabel(name) {
    const lang = lineLanguages[name];
    return lang ? `${name} (${say('lineNames')[lang] || lang})` : name;
  }

  function setLanguage(lang) {
    phone.lang = lang;
    const url = new URL(location.href);
    url.searchParams.set('lang', lang);
    history.replaceState(null, '', url);
    applyLanguage();
  }

  // ---- display: larger text, high contrast (kept in this browser) ---------------------------

  const DISPLAY = { large: 'btn-large', contrast: 'btn-contrast' };

  function remembered(name) {
    try { return localStorage.getItem(`humanline.phone.${name}`); } catch (e) { return null; }
  }

  function setDisplay(name, on) {
    document.documentElement.classList.toggle(name, on);
    $(DISPLAY[name]).setAttribute('aria-pressed', String(on));
    try { localStorage.setItem(`humanline.phone.${name}`, on ? '1' : '0'); } catch (e) { /* private mode */ }
  }

  function initDisplay() {
    const prefersContrast = window.matchMedia && window.matchMedia('(prefers-contrast: more)').matches;
    setDisplay('large', remembered('large') === '1');
    setDisplay('contrast', remembered('contrast') === null ? prefersContrast : remembered('contrast') === '1');
    for (const [name, id] of Object.entries(DISPLAY)) {
      $(id).addEventListener('click', () => setDisplay(name, !document.documentElement.classList.contains(name)));
    }
  }

  // ---- captions ----------------------------------------------------------------------------

  let partial = '';

  function showPartial() {
    const p = $('caption-partial');
    p.hidden = !partial;
    p.textContent = partial ? `${say('hearing')} ${partial}` : '';
    p.lang = T.htmlLang(lineLanguages[$('line').value] || phone.lang);
  }

  function clearCaptions() {
    phone.captions = [];
    partial = '';
    $('captions').textContent = '';
    $('captions-empty').hidden = false;
    showPartial();
  }

  function caption(msg) {
    const c = { speaker: msg.speaker === 'line' ? 'line' : 'caller', text: String(msg.text || ''), partial: !!msg.partial, at: Math.round(performance.now()) };
    phone.captions.push(c);
    if (c.speaker === 'caller' && c.partial) {
      partial = c.text;
      showPartial();
      return;
    }
    if (c.speaker === 'caller') partial = '';
    showPartial();
    const log = $('captions');
    const row = document.createElement('p');
    row.className = `caption ${c.speaker}`;
    const who = document.createElement('span');
    who.className = 'who';
    who.dataset.speaker = c.speaker;
    who.textContent = say(c.speaker === 'line' ? 'speakerLine' : 'speakerCaller');
    const words = document.createElement('span');
    words.className = 'words';
    words.lang = T.htmlLang(lineLanguages[$('line').value] || phone.lang);
    words.textContent = c.text;
    row.append(who, ' ', words);
    log.appendChild(row);
    while (log.children.length > MAX_CAPTIONS) log.removeChild(log.firstChild);
    log.scrollTop = log.scrollHeight;
    $('captions-empty').hidden = true;
  }

  // ---- the call ----------------------------------------------------------------------------

  const STATES = ['ivr', 'queued', 'ringing_agent', 'bridged', 'message'];

  function render() {
    const inCall = phase() === 'connected';
    const busy = phase() === 'connecting' || inCall;
    $('btn-call').disabled = busy;
    $('btn-hangup').disabled = !busy;
    $('btn-human').disabled = !inCall;
    $('line').disabled = busy;
    for (const b of document.querySelectorAll('#keypad button')) b.disabled = !inCall;
    $('call-id').textContent = phone.callId || '–';
    $('zero-key').textContent = phone.zeroOut;
  }

  function phase(p) {
    if (p) phone.phase = p;
    return phone.phase;
  }

  async function loadLines() {
    const wanted = new URLSearchParams(location.search).get('line');
    let lines = [];
    let def = 'support';
    try {
      const r = await fetch('/phone/lines');
      const j = await r.json();
      lines = j.lines || [];
      lineLanguages = j.languages || {};
      def = j.default || def;
    } catch (e) { /* the select keeps what it has */ }
    const pick = wanted || def;
    if (!lines.includes(pick)) lines.unshift(pick);
    const sel = $('line');
    sel.textContent = '';
    for (const name of lines) {
      const o = document.createElement('option');
      o.value = name;
      o.textContent = lineLabel(name);
      if (name === pick) o.selected = true;
      sel.appendChild(o);
    }
  }

  /** Another line picked: the page speaks its language. */
  function lineChanged() {
    const line = $('line').value;
    const url = new URL(location.href);
    url.searchParams.set('line', line);
    url.searchParams.delete('lang');
    history.replaceState(null, '', url);
    if (lineLanguages[line]) phone.lang = lineLanguages[line];
    applyLanguage();
  }

  function send(msg) {
    if (phone.ws && phone.ws.readyState === WebSocket.OPEN) {
      phone.ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
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

  function closeMedia() {
    if (phone.pc) { try { phone.pc.close(); } catch (e) { /* already closed */ } }
    if (phone.mic) for (const t of phone.mic.getTracks()) t.stop();
    phone.mic = null;
    $('remote-audio').srcObject = null;
  }

  function ended(why) {
    if (phase() === 'ended' || phase() === 'idle') return;
    phase('ended');
    closeMedia();
    if (phone.ws) { try { phone.ws.close(); } catch (e) { /* already closed */ } }
    partial = '';
    showPartial();
    setStatus('ended', 'ended', why);
    render();
  }

  async function answer(msg) {
    phone.zeroOut = msg.zero_out || '0';
    const pc = new RTCPeerConnection();
    phone.pc = pc;
    pc.ontrack = (e) => {
      const a = $('remote-audio');
      a.srcObject = (e.streams && e.streams[0]) || new MediaStream([e.track]);
      a.play().catch(() => {});
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed') {
        send({ type: 'hangup' });
        ended('the audio connection failed');
      }
    };
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      send({ type: 'hangup' });
      ended('this browser allows the microphone only on https:// pages (or on localhost)');
      return;
    }
    try {
      // Echo cancellation keeps the line's prompts out of the microphone (they would barge in);
      // no automatic gain: it drives normal speech into clipping, which the line's speech
      // recognition hears as garble. A phone line does not boost callers either.
      phone.mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, autoGainControl: false, noiseSuppression: false },
      });
    } catch (e) {
      send({ type: 'hangup' });
      ended('this page may not use your microphone; allow it and call again');
      return;
    }
    if (phase() !== 'connecting') { closeMedia(); return; }
    await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
    for (const t of phone.mic.getAudioTracks()) pc.addTrack(t, phone.mic);
    await pc.setLocalDescription(await pc.createAnswer());
    await waitIce(pc, 3000);
    if (phase() !== 'connecting') { closeMedia(); return; }
    send({ type: 'answer', sdp: pc.localDescription.sdp });
    render();
  }

  function onMessage(ev) {
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    if (!msg || typeof msg !== 'object') return;
    phone.events.push(Object.assign({ at: Math.round(performance.now()) }, msg));
    switch (msg.type) {
      case 'offer':
        answer(msg).catch((e) => { send({ type: 'hangup' }); ended(`the call could not start (${e.message || e})`); });
        break;
      case 'connected':
        phase('connected');
        phone.callId = msg.call_id || '';
        setStatus('ivr', 'connected');
        break;
      case 'state':
        if (phase() === 'connected') {
          const kind = msg.state === 'ivr' ? 'connected' : 'queued';
          setStatus(STATES.includes(msg.state) ? msg.state : 'ivr', kind);
        }
        break;
      case 'caption':
        if (phase() === 'connecting' || phase() === 'connected') caption(msg);
        break;
      case 'ended':
        ended(msg.why || 'the line hung up');
        break;
      case 'error':
        console.warn('phone: the server refused a message:', msg.message);
        break;
      default:
        break;
    }
    render();
  }

  function call() {
    if (phase() === 'connecting' || phase() === 'connected') return;
    phone.events = [];
    phone.callId = '';
    phone.dtmf = [];
    $('keys-pressed').textContent = '';
    clearCaptions();
    phase('connecting');
    setStatus('connecting', '');
    render();
    const line = $('line').value || 'support';
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws/phone?line=${encodeURIComponent(line)}`);
    phone.ws = ws;
    ws.onmessage = onMessage;
    ws.onclose = () => { if (phone.ws === ws) ended('the connection to the server was lost'); };
    ws.onerror = () => {};
  }

  function hangUp() {
    send({ type: 'hangup' });
    ended('you hung up');
  }

  /** Sends keys inside the media (RFC 4733); true when the browser could. */
  function press(keys) {
    if (phase() !== 'connected' || !phone.pc) return false;
    const sender = phone.pc.getSenders().find((s) => s.track && s.track.kind === 'audio');
    if (!sender || !sender.dtmf || !sender.dtmf.canInsertDTMF) {
      console.warn('phone: this browser cannot send keys on this call');
      return false;
    }
    sender.dtmf.insertDTMF(keys, 120, 70);
    phone.dtmf.push(keys);
    $('keys-pressed').textContent += keys;
    return true;
  }

  function talkToPerson() {
    if (press(phone.zeroOut)) setStatus('toPerson', 'queued');
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('btn-call').addEventListener('click', call);
    $('btn-hangup').addEventListener('click', hangUp);
    $('btn-human').addEventListener('click', talkToPerson);
    $('btn-lang').addEventListener('click', () => setLanguage(phone.lang === 'zh' ? 'en' : 'zh'));
    $('line').addEventListener('change', lineChanged);
    for (const b of document.querySelectorAll('#keypad button')) {
      b.addEventListener('click', () => press(b.dataset.key));
    }
    document.addEventListener('keydown', (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.target && e.target.tagName === 'SELECT') return;
      if (/^[0-9*#]$/.test(e.key)) press(e.key);
    });
    window.addEventListener('beforeunload', () => send({ type: 'hangup' }));
    initDisplay();
    applyLanguage();
    render();
    loadLines().then(() => { applyLanguage(); render(); });
  });
})();
