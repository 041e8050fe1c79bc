// Drives the agent console and the supervisor board in headless Chromium, as the people who
// use them: sign in through the login form, press Ready, read the messages panel, play a
// message's audio, mark it done, speak the console's WebSocket protocol wrongly on purpose,
// then open the supervisor board in a second browser while the agent is still signed in.
// Prints one JSON object with what it saw; tests/console_pages.rs asserts on it.
//
// Environment: BASE (http://127.0.0.1:PORT), AGENT_NAME, AGENT_PASSWORD, SUPERVISOR_NAME,
// SUPERVISOR_PASSWORD, SCREENSHOT_DIR, SIGNAL_DIR (the script writes `ready` there once the agent
// is Ready, waits for the test's `queued` (a caller offered to this agent), and writes
// `pop_shown` with the ringing call's id once notes are typed; the test then hangs that caller
// up), NOTES.
'use strict';

const fs = require('fs');
const path = require('path');
const { launch } = require('./lib/launch');

const BASE = process.env.BASE;
const T = 15000;

async function login(page, path, name, password) {
  await page.goto(`${BASE}${path}`);
  // Not signed in: the page sends us to the login form, which brings us back.
  await page.waitForURL(/\/login\?next=/, { timeout: T });
  await page.fill('#name', name);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(`${BASE}${path}`, { timeout: T }), page.click('button[type=submit]')]);
}

async function visible(page, selectors) {
  const out = {};
  for (const s of selectors) out[s] = await page.locator(s).first().isVisible();
  return out;
}

/** Opens a second socket from the page and reports the server's replies to bad frames. */
function protocolProbe() {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://${location.host}/ws/agent`);
    const got = [];
    const frames = [
      'this is not json',
      JSON.stringify({ type: 'dial', to: 'x' }),
      JSON.stringify({ type: 'status', status: 'busy' }),
      JSON.stringify({ type: 'answer', call_id: 'no-such-call', sdp: 'v=0\r\n' }),
      JSON.stringify({ type: 'decline' }),
    ];
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      got.push(m);
      if (m.type === 'hello') for (const f of frames) ws.send(f);
      if (got.filter((g) => g.type === 'error').length === frames.length) { ws.close(); resolve(got); }
    };
    ws.onerror = () => resolve({ failed: true, got });
    setTimeout(() => resolve({ timeout: true, got }), 8000);
  });
}

(async () => {
  const result = {};
  const agent = await launch();
  let sup = null;
  try {
    const page = agent.page;
    await login(page, '/agent', process.env.AGENT_NAME, process.env.AGENT_PASSWORD);
    await page.waitForFunction(() => document.getElementById('conn').textContent === 'Connected', null, { timeout: T });
    result.agent_header = await page.textContent('header');
    await page.click('#btn-ready');
    await page.waitForFunction(() => document.getElementById('status-word').textContent === 'Ready', null, { timeout: T });
    result.ready_pressed = await page.getAttribute('#btn-ready', 'aria-pressed');
    result.status_events = await page.evaluate(() => window.humanline.events.filter((e) => e.type === 'status').map((e) => e.status));
    fs.writeFileSync(path.join(process.env.SIGNAL_DIR, 'ready'), '');

    await page.waitForSelector('#message-list li', { timeout: T });
    result.messages = await page.$$eval('#message-list li', (lis) => lis.map((li) => ({
      call_id: li.dataset.callId, text: li.textContent, audio: li.querySelector('audio') && li.querySelector('audio').getAttribute('src'),
    })));
    // The message's audio as the page's <audio> would fetch it (with the session cookie).
    result.message_audio = await page.evaluate(async (src) => {
      const r = await fetch(src);
      const b = new Uint8Array(await r.arrayBuffer());
      return { status: r.status, type: r.headers.get('content-type'), bytes: b.length, riff: String.fromCharCode(...b.slice(0, 4)) };
    }, result.messages[0].audio);
    result.agent_visible = await visible(page, ['#btn-ready', '#btn-away', '#phone', '#phone-state', '#messages', '#message-list audio', '#pop', '#btn-logout']);
    result.agent_screenshot = await agent.screenshot('agent_console');

    await page.click('#message-list li button');
    await page.waitForSelector('#message-list li.done', { timeout: T });
    result.done_text = await page.textContent('#message-list li.done');

    result.protocol = await page.evaluate(protocolProbe);

    // The screen pop of a caller offered to this agent: the server's own offer rings the
    // console; the same pop is in /api/calls, where the agent sees only the calls offered to them.
    const queued = path.join(process.env.SIGNAL_DIR, 'queued');
    for (let i = 0; i < 600 && !fs.existsSync(queued); i++) await new Promise((r) => setTimeout(r, 100));
    await page.waitForSelector('#ringing', { state: 'visible', timeout: T });
    const waiting = await page.evaluate(async () => (await (await fetch('/api/calls')).json()).live.filter((c) => c.pop));
    result.pop_source = waiting[0] || null;
    result.live_seen = waiting.length;
    if (waiting[0]) {
      const c = waiting[0];
      result.pop = await page.evaluate(() => {
        const t = (id) => document.getElementById(id).textContent;
        const items = (sel) => [...document.querySelectorAll(sel)].map((e) => e.textContent);
        return {
          ringing: t('ringing'), caller: t('pop-caller'), language: t('pop-language'), queue: t('pop-queue'),
          waited: t('pop-waited'), reason: t('pop-reason'), signals: items('#pop-signals li'), path: items('#pop-path li'),
          transcript: items('#pop-transcript li'), earlier: items('#pop-earlier tbody tr'),
        };
      });
      result.pop_visible = await visible(page, ['#ringing', '#btn-accept', '#btn-decline', '#pop-body', '#pop-transcript', '#notes', '#btn-save-notes']);
      result.pop_screenshot = await agent.screenshot('agent_screen_pop');

      // Notes typed while the call is on: kept until the call's record exists, then saved.
      await page.fill('#notes', process.env.NOTES);
      await page.click('#btn-save-notes');
      await page.waitForFunction(() => /^Kept/.test(document.getElementById('notes-saved').textContent), null, { timeout: T });
      result.notes_while_live = await page.textContent('#notes-saved');
      // The test hangs the caller up now: the server cancels the offer, the notes stay.
      fs.writeFileSync(path.join(process.env.SIGNAL_DIR, 'pop_shown'), c.id);
      await page.waitForFunction(() => /^Saved/.test(document.getElementById('notes-saved').textContent), null, { timeout: 40000 });
      result.after_call = await page.evaluate(() => ({
        phone: document.getElementById('phone-state').textContent,
        notes_saved: document.getElementById('notes-saved').textContent,
        notes_editable: !document.getElementById('notes').disabled && !document.getElementById('pop-body').hidden,
        ringing: !document.getElementById('ringing').hidden,
      }));
      result.after_call_screenshot = await agent.screenshot('agent_after_call');
    }

    // The softphone against a real WebRTC peer: Chromium's own, in the same page, stands in
    // for the server's (call tasks do not offer to consoles yet). Accept must take the
    // microphone, answer with every ICE candidate in the SDP, and get media flowing.
    await page.evaluate(async () => {
      const off = new RTCPeerConnection();
      off.addTransceiver('audio', { direction: 'sendrecv' });
      await off.setLocalDescription();
      await new Promise((r) => { if (off.iceGatheringState === 'complete') r(); else off.onicegatheringstatechange = () => off.iceGatheringState === 'complete' && r(); });
      window.probeOfferer = off;
      window.humanline.handle({ type: 'offer', call_id: 'probe-call', sdp: off.localDescription.sdp, pop: { caller: 'sip:probe@127.0.0.1', reason: 'human_request' } });
    });
    await page.waitForSelector('#btn-accept', { state: 'visible', timeout: T });
    await page.click('#btn-accept');
    await page.waitForFunction(() => window.humanline.state.call && window.humanline.state.call.phase === 'talking', null, { timeout: T });
    result.softphone = await page.evaluate(async () => {
      const pc = window.humanline.pc;
      const answer = pc.localDescription.sdp;
      await window.probeOfferer.setRemoteDescription({ type: 'answer', sdp: answer });
      const t0 = Date.now();
      while (pc.connectionState !== 'connected' && Date.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 1500));
      let sent = 0;
      (await pc.getStats()).forEach((s) => { if (s.type === 'outbound-rtp' && s.kind === 'audio') sent += s.packetsSent; });
      const serverSaid = window.humanline.events.filter((e) => e.type === 'error').map((e) => e.message);
      return {
        answer_has_candidates: /a=candidate:/.test(answer), answer_type: pc.localDescription.type,
        connection: pc.connectionState, packets_sent: sent, server_errors: serverSaid,
        mute_visible: !document.getElementById('btn-mute').hidden, hangup_visible: !document.getElementById('btn-hangup').hidden,
      };
    });
    await page.click('#btn-mute');
    result.softphone.muted_track_enabled = await page.evaluate(() => window.humanline.state.call.mic.getAudioTracks()[0].enabled);
    await page.click('#btn-hangup');
    await page.waitForFunction(() => window.humanline.pc.connectionState === 'closed', null, { timeout: T });
    result.softphone.after_hangup = await page.textContent('#phone-state');
    await page.evaluate(() => window.probeOfferer.close());

    await page.click('#btn-away');
    await page.waitForFunction(() => document.getElementById('status-word').textContent === 'Away', null, { timeout: T });
    await page.click('#btn-ready');
    await page.waitForFunction(() => document.getElementById('status-word').textContent === 'Ready', null, { timeout: T });

    // The supervisor, in another browser, while the agent's console stays open.
    sup = await launch();
    const sp = sup.page;
    await login(sp, '/supervisor', process.env.SUPERVISOR_NAME, process.env.SUPERVISOR_PASSWORD);
    await sp.waitForFunction(() => /^Updated/.test(document.getElementById('updated').textContent), null, { timeout: T });
    await sp.waitForSelector('#escalations-chart', { timeout: T });
    // Let one 2 s refresh pass so the board shows it keeps itself up to date.
    const first = await sp.textContent('#updated');
    await sp.waitForFunction((f) => document.getElementById('updated').textContent !== f, first, { timeout: 6000 });
    result.chart = await sp.$$eval('#escalations-chart g.bar', (gs) => gs.map((g) => ({ reason: g.dataset.reason, count: Number(g.dataset.count), width: Number(g.querySelector('rect').getAttribute('width')) })));
    result.figures = await sp.evaluate(() => Object.fromEntries(['tth-median', 'tth-p90', 'in-ivr', 'in-queue', 'tth-note'].map((id) => [id, document.getElementById(id).textContent])));
    result.agents_rows = await sp.$$eval('#agents tbody tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
    result.calls_rows = await sp.$$eval('#calls tbody tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
    result.supervisor_visible = await visible(sp, ['#escalations-chart', '#agents', '#tth-median', '#tth-p90', '#calls', '#queues']);
    result.supervisor_screenshot = await sup.screenshot('supervisor_board');
    result.logs = { agent: agent.logs, supervisor: sup.logs };
  } finally {
    if (sup) await sup.close();
    await agent.close();
  }
  console.log(JSON.stringify(result));
})().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
