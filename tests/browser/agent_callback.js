// An agent takes a callback in the console: sign in, see the booked callback in the Callbacks
// list, press Ready; the server offers the callback as a preview (the booking call's screen
// pop, "Callback to NUMBER") with a "Call now" button; pressing it connects the console and
// the server calls the customer; the customer's words arrive, and the call ends when the
// customer hangs up. Prints one JSON object; tests/browser_callback.rs asserts on it.
//
// Environment: BASE, AGENT_NAME, AGENT_PASSWORD, MIC_WAV (the agent's voice), SIGNAL_DIR (this
// script writes `ready` there when it is about to press Ready).
'use strict';

const fs = require('fs');
const path = require('path');
const { launch } = require('./lib/launch');
const { signIn } = require('./lib/console');

const BASE = process.env.BASE;
const SIGNALS = process.env.SIGNAL_DIR;
const T = 20000;

const signal = (name) => fs.writeFileSync(path.join(SIGNALS, name), String(Date.now()));

(async () => {
  const result = {};
  const b = await launch({ audioWav: process.env.MIC_WAV });
  const page = b.page;
  try {
    await signIn(page, BASE, process.env.AGENT_NAME, process.env.AGENT_PASSWORD);
    // The booked callback is listed before the agent takes any call.
    await page.waitForSelector('#callback-list li', { timeout: T });
    result.listed = await page.$$eval('#callback-list li', (l) => l.map((x) => x.textContent));
    signal('ready');
    await page.click('#btn-ready');

    await page.waitForSelector('#btn-accept', { state: 'visible', timeout: 45000 });
    result.button = await page.textContent('#btn-accept');
    result.pop = {
      caller: await page.textContent('#pop-caller'),
      reason: await page.textContent('#pop-reason'),
      queue: await page.textContent('#pop-queue'),
    };
    result.screenshot_preview = await b.screenshot('agent_callback_preview');
    await page.click('#btn-accept');
    await page.waitForFunction(() => window.humanline.pc && window.humanline.pc.connectionState === 'connected', null, { timeout: T });
    // The customer answers and talks; their audio reaches the console.
    await page.waitForTimeout(4000);
    result.stats = await page.evaluate(async () => {
      const out = { inbound: null, outbound: null };
      const stats = await window.humanline.pc.getStats();
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'audio') out.inbound = { packets: s.packetsReceived, energy: s.totalAudioEnergy };
        if (s.type === 'outbound-rtp' && s.kind === 'audio') out.outbound = { packets: s.packetsSent };
      });
      return out;
    });
    result.screenshot_call = await b.screenshot('agent_callback_talking');
    await page.waitForFunction(() => window.humanline.events.some((e) => e.type === 'ended'), null, { timeout: 45000 });
    result.ended = await page.evaluate(() => window.humanline.events.filter((e) => e.type === 'ended').pop());
  } catch (e) {
    result.error = String(e && e.stack || e);
    result.page_logs = b.logs.slice(-30);
    await b.screenshot('agent_callback-failed').catch(() => {});
  } finally {
    await b.close();
  }
  console.log(JSON.stringify(result));
})();
