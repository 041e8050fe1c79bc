// An agent takes a real call in the console: sign in, press Ready, wait for the caller the
// server offers (a SIP caller who pressed 0), read the screen pop while it rings, Accept (the
// server's WebRTC offer, the fake microphone as the agent's voice), talk, hang up, see the
// wrap-up countdown and save notes. Prints one JSON object; tests/browser_agent.rs asserts on it
// and plays the caller's side.
//
// Environment: BASE, AGENT_NAME, AGENT_PASSWORD, MIC_WAV (the agent's voice), SIGNAL_DIR (this
// script writes `ready` and `talking` there and waits for `heard` before hanging up), NOTES,
// SCREENSHOT_DIR, HANGUP (`agent`: alice presses Hang up after the caller heard her; `caller`: she
// waits for the caller to hang up).
'use strict';

const fs = require('fs');
const path = require('path');
const { launch } = require('./lib/launch');

const BASE = process.env.BASE;
const SIGNALS = process.env.SIGNAL_DIR;
const T = 20000;

const signal = (name) => fs.writeFileSync(path.join(SIGNALS, name), String(Date.now()));
async function waitSignal(name, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fs.existsSync(path.join(SIGNALS, name))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** Audio the console received and sent so far, from the peer connection's own statistics. */
function audioStats() {
  return (async () => {
    const pc = window.humanline.pc;
    if (!pc) return null;
    const out = { inbound: null, outbound: null, codec: null };
    const stats = await pc.getStats();
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.inbound = { packets: s.packetsReceived, energy: s.totalAudioEnergy, level: s.audioLevel };
        const c = stats.get(s.codecId);
        out.codec = c ? c.mimeType : null;
      }
      if (s.type === 'outbound-rtp' && s.kind === 'audio') out.outbound = { packets: s.packetsSent };
    });
    return out;
  })();
}

(async () => {
  const result = {};
  const b = await launch({ audioWav: process.env.MIC_WAV });
  const page = b.page;
  try {
    await page.goto(`${BASE}/agent`);
    await page.waitForURL(/\/login\?next=/, { timeout: T });
    await page.fill('#name', process.env.AGENT_NAME);
    await page.fill('#password', process.env.AGENT_PASSWORD);
    await Promise.all([page.waitForURL(`${BASE}/agent`, { timeout: T }), page.click('button[type=submit]')]);
    await page.waitForFunction(() => document.getElementById('conn').textContent === 'Connected', null, { timeout: T });
    await page.click('#btn-ready');
    await page.waitForFunction(() => document.getElementById('status-word').textContent === 'Ready', null, { timeout: T });
    signal('ready');

    // The server offers the caller: the console rings and the pop is filled before answering.
    await page.waitForSelector('#btn-accept', { state: 'visible', timeout: 45000 });
    result.ringing_visible = await page.locator('#ringing').isVisible();
    result.pop = {
      reason: await page.textContent('#pop-reason'),
      signals: await page.$$eval('#pop-signals li', (l) => l.map((x) => x.textContent)),
      path: await page.$$eval('#pop-path li', (l) => l.map((x) => x.textContent)),
      transcript: await page.$$eval('#pop-transcript li', (l) => l.map((x) => x.textContent)),
      caller: await page.textContent('#pop-caller'),
      queue: await page.textContent('#pop-queue'),
    };
    result.offer = await page.evaluate(() => {
      const o = window.humanline.events.filter((e) => e.type === 'offer').pop();
      return o ? { call_id: o.call_id, pcmu: /a=rtpmap:0 PCMU\/8000/.test(o.sdp) } : null;
    });
    result.screenshot_ringing = await b.screenshot('agent_call_ringing');

    await page.click('#btn-accept');
    await page.waitForFunction(() => window.humanline.pc && window.humanline.pc.connectionState === 'connected', null, { timeout: T });
    await page.waitForFunction(() => document.getElementById('status-word').textContent === 'On a call', null, { timeout: T })
      .catch(() => {});
    result.status_in_call = await page.textContent('#status-word');
    // Let the caller's audio arrive for a few seconds, then read the statistics.
    await page.waitForTimeout(4000);
    result.stats = await page.evaluate(audioStats);
    result.hangup_visible = await page.locator('#btn-hangup').isVisible();
    result.screenshot_call = await b.screenshot('agent_call_talking');
    signal('talking');
    if (process.env.HANGUP === 'caller') {
      await page.waitForFunction(() => window.humanline.events.some((e) => e.type === 'ended'), null, { timeout: 45000 });
      result.ended = await page.evaluate(() => window.humanline.events.filter((e) => e.type === 'ended').pop());
    } else {
      result.caller_heard_signal = await waitSignal('heard', 30000);
      await page.click('#btn-hangup');
    }
    await page.waitForFunction(() => !document.getElementById('wrapup').hidden, null, { timeout: T });
    result.wrapup_text = await page.textContent('#wrapup');
    result.status_after = await page.textContent('#status-word');
    await page.fill('#notes', process.env.NOTES);
    await page.click('#btn-save-notes');
    await page.waitForFunction(() => document.getElementById('notes-saved').textContent.startsWith('Saved'), null, { timeout: T })
      .catch(() => {});
    result.notes_saved = await page.textContent('#notes-saved');
    result.screenshot_wrapup = await b.screenshot('agent_call_wrap_up');
  } catch (e) {
    result.error = String(e && e.stack || e);
    result.page_logs = b.logs.slice(-30);
    await b.screenshot('agent_call-failed').catch(() => {});
  } finally {
    await b.close();
  }
  console.log(JSON.stringify(result));
})();
