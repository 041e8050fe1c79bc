// A caller calls the support line from the /phone page in Chromium (fake microphone fed from
// MIC_WAV). Prints one JSON object; tests/web_phone.rs asserts on it and on the server's records.
//
// MODE=keys: screenshot of the idle page, Call, read the WebRTC statistics during the welcome
// prompt, the screenshot `phone.png` in the call, press 1 on the keypad once the menu asks,
// see the billing node, press "Talk to a person", see the hand-over, hang up.
// Both modes return the captions the page received and the caption rows it shows.
// MODE=speech: Call and let the microphone (a looped clip asking for a real person) talk until
// the line hands the caller over; nobody staffs the queue, so after the message the line hangs
// up, and the page must say so.
//
// Environment: BASE, MODE, MIC_WAV, SCREENSHOT_DIR.
'use strict';

const { launch } = require('./lib/launch');

const BASE = process.env.BASE;
const MODE = process.env.MODE || 'keys';
const T = 20000;

/** Inbound audio so far, from the peer connection's own statistics. */
function inboundStats() {
  return (async () => {
    const pc = window.phone.pc;
    if (!pc) return null;
    const out = { packets: 0, energy: 0, codec: null, outbound_packets: 0 };
    const stats = await pc.getStats();
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.packets = s.packetsReceived;
        out.energy = s.totalAudioEnergy;
        const c = stats.get(s.codecId);
        out.codec = c ? c.mimeType : null;
      }
      if (s.type === 'outbound-rtp' && s.kind === 'audio') out.outbound_packets = s.packetsSent;
    });
    return out;
  })();
}

/** Waits until the server reported a state frame at `want.node`, or (want.reason) with a
 *  hand-over reason; returns that frame. */
async function waitState(page, want, ms) {
  const handle = await page.waitForFunction(
    (w) => window.phone.events
      .filter((m) => m.type === 'state')
      .find((m) => (w.node ? m.node === w.node : !!m.reason)) || null,
    want,
    { timeout: ms },
  );
  return handle.jsonValue();
}

const visible = async (page, sel) => page.locator(sel).isVisible();

(async () => {
  const result = { mode: MODE };
  const b = await launch({ audioWav: process.env.MIC_WAV });
  const page = b.page;
  try {
    await page.goto(`${BASE}/phone?line=support`);
    await page.waitForFunction(() => document.querySelectorAll('#line option').length > 0, null, { timeout: T });
    result.lines = await page.$$eval('#line option', (o) => o.map((x) => x.value));
    result.selected_line = await page.inputValue('#line');
    if (MODE === 'keys') result.screenshot_idle = await b.screenshot('phone_idle');

    await page.click('#btn-call');
    await page.waitForFunction(() => window.phone.phase === 'connected', null, { timeout: T });
    result.call_id = await page.evaluate(() => window.phone.callId);
    result.zero_out = await page.evaluate(() => window.phone.zeroOut);
    result.status_connected = await page.textContent('#status');

    if (MODE === 'keys') {
      // The welcome prompt plays for 7 s: listen to 3 s of it.
      await page.waitForTimeout(3000);
      result.welcome_stats = await page.evaluate(inboundStats);
      result.elements = {
        call: await visible(page, '#btn-call'),
        hangup: await visible(page, '#btn-hangup'),
        human: await visible(page, '#btn-human'),
        human_text: (await page.textContent('#btn-human')).trim(),
        human_enabled: await page.isEnabled('#btn-human'),
        status: await visible(page, '#status'),
        status_text: (await page.textContent('#status')).trim(),
        call_id_text: (await page.textContent('#call-id')).trim(),
        keypad: await visible(page, '#keypad'),
        keys: await page.$$eval('#keypad button', (l) => l.filter((x) => x.offsetParent !== null).map((x) => x.textContent.trim())),
      };
      result.screenshot = await b.screenshot('phone');

      // Keys work while the menu asks (barge-in): wait for it, press 1.
      result.menu = await waitState(page, { node: 'menu' }, T);
      await page.click('#keypad button[data-key="1"]');
      result.billing = await waitState(page, { node: 'billing' }, T);
      await page.waitForTimeout(500);
      await page.click('#btn-human');
      result.handed_over = await waitState(page, { reason: true }, T);
      result.status_handed_over = await page.textContent('#status');
      result.dtmf_sent = await page.evaluate(() => window.phone.dtmf);
      result.final_stats = await page.evaluate(inboundStats);
      await page.click('#btn-hangup');
    } else {
      result.handed_over = await waitState(page, { reason: true }, 60000);
      result.status_handed_over = await page.textContent('#status');
      result.final_stats = await page.evaluate(inboundStats);
      // This time the line hangs up (after the message): the page must learn it.
      await page.waitForFunction(() => window.phone.phase === 'ended', null, { timeout: 60000 });
      result.ended = await page.evaluate(() => window.phone.events.filter((m) => m.type === 'ended').pop() || null);
      result.pc_state = await page.evaluate(() => window.phone.pc && window.phone.pc.connectionState);
      result.hangup_enabled = await page.isEnabled('#btn-hangup');
    }
    result.status_after = (await page.textContent('#status')).trim();
    result.states = await page.evaluate(() => window.phone.events.filter((m) => m.type === 'state'));
    result.captions = await page.evaluate(() => window.phone.captions);
    result.caption_dom = await page.evaluate(() => [...document.querySelectorAll('#captions .caption')].map((c) => c.textContent));
  } catch (e) {
    result.error = String((e && e.stack) || e);
    result.page_logs = b.logs.slice(-30);
    result.events = await page.evaluate(() => window.phone && window.phone.events).catch(() => null);
    await b.screenshot(`phone_${MODE}-failed`).catch(() => {});
  } finally {
    await b.close();
  }
  console.log(JSON.stringify(result));
})();
