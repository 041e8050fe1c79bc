// humanline web phone: calls a support line over WebRTC through the server's gateway.
//
// Signalling on /ws/phone (JSON): the server offers (PCMU + telephone-event), this page answers
// with the microphone; keys (keypad and "Talk to a person", which sends the line's zero-out key)
// go inside the media as RFC 4733 events through RTCDTMFSender. `window.phone` exposes the
// state for tests: { pc, ws, events, phase, callId, zeroOut, dtmf }.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const phone = { pc: null, ws: null, mic: null, events: [], phase: 'idle', callId: '', zeroOut: '0', dtmf: [] };
  window.phone = phone;

  const STATES = {
    ivr: 'Connected',
    queued: 'In the queue: a person will be with you soon',
    ringing_agent: 'Calling a person for you…',
    bridged: 'Talking to a person',
    message: 'Nobody is free: please leave a message after the tone',
  };

  function setStatus(text, kind) {
    const s = $('status');
    s.textContent = text;
    s.className = `status ${kind || ''}`;
  }

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
      def = j.default || def;
    } catch (e) { /* the select keeps what it has */ }
    const pick = wanted || def;
    if (!lines.includes(pick)) lines.unshift(pick);
    const sel = $('line');
    sel.textContent = '';
    for (const name of lines) {
      const o = document.createElement('option');
      o.value = name;
      o.textContent = name;
      if (name === pick) o.selected = true;
      sel.appendChild(o);
    }
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
    setStatus(`Call ended: ${why}`, 'ended');
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
    phone.events.push(msg);
    switch (msg.type) {
      case 'offer':
        answer(msg).catch((e) => { send({ type: 'hangup' }); ended(`the call could not start (${e.message || e})`); });
        break;
      case 'connected':
        phase('connected');
        phone.callId = msg.call_id || '';
        setStatus(STATES.ivr, 'connected');
        break;
      case 'state':
        if (phase() === 'connected') {
          const kind = msg.state === 'ivr' ? 'connected' : 'queued';
          setStatus(STATES[msg.state] || STATES.ivr, kind);
        }
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
    phase('connecting');
    setStatus('Connecting…', '');
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
    if (press(phone.zeroOut)) setStatus('Connecting you to a person…', 'queued');
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('btn-call').addEventListener('click', call);
    $('btn-hangup').addEventListener('click', hangUp);
    $('btn-human').addEventListener('click', talkToPerson);
    for (const b of document.querySelectorAll('#keypad button')) {
      b.addEventListener('click', () => press(b.dataset.key));
    }
    document.addEventListener('keydown', (e) => {
      if (e.target && e.target.tagName === 'SELECT') return;
      if (/^[0-9*#]$/.test(e.key)) press(e.key);
    });
    window.addEventListener('beforeunload', () => send({ type: 'hangup' }));
    render();
    loadLines().then(render);
  });
})();
