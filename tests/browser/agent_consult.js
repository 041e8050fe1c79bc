// Attended transfer from the console: alice signs in, goes Ready and accepts the caller the
// server offers; she picks "bob" and presses Consult first (the caller hears hold music, bob's
// phone rings); once the console says she is talking to bob she presses Complete transfer and
// the console shows the caller handed over. Prints one JSON object; tests/browser_consult.rs
// plays the caller and bob's phone and asserts on it.
//
// Environment: BASE, PASSWORD, MIC_WAV (alice's voice), SIGNAL_DIR (this script writes
// `ready`, `talking` (to the caller), `consulting` (bob answered) and waits for `complete`).
'use strict';

const fs = require('fs');
const path = require('path');
const { launch } = require('./lib/launch');
const { signIn, goReady } = require('./lib/console');

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

(async () => {
  const result = {};
  const b = await launch({ audioWav: process.env.MIC_WAV });
  const page = b.page;
  try {
    await signIn(page, BASE, 'alice', process.env.PASSWORD);
    await goReady(page);
    signal('ready');
    await page.waitForSelector('#btn-accept', { state: 'visible', timeout: 45000 });
    await page.click('#btn-accept');
    await page.waitForFunction(() => window.humanline.pc && window.humanline.pc.connectionState === 'connected', null, { timeout: T });
    await page.waitForSelector('#transfer', { state: 'visible', timeout: T });
    signal('talking');

    await page.selectOption('#transfer-queue', 'agent:bob');
    await page.click('#btn-consult');
    await page.waitForSelector('#consult', { state: 'visible', timeout: T });
    await page.waitForFunction(() => /^Talking to bob/.test(document.getElementById('consult-state').textContent), null, { timeout: 30000 });
    result.consult_state = await page.textContent('#consult-state');
    result.transfer_hidden = await page.locator('#transfer').isHidden();
    result.screenshot_consult = await b.screenshot('agent_consult_talking');
    signal('consulting');
    result.complete_signal = await waitSignal('complete', 30000);
    await page.click('#btn-consult-complete');
    await page.waitForFunction(() => window.humanline.events.some((e) => e.type === 'ended'), null, { timeout: T });
    result.ended = await page.evaluate(() => window.humanline.events.filter((e) => e.type === 'ended').pop());
    result.consult_messages = await page.evaluate(() => window.humanline.events.filter((e) => e.type === 'consult').map((e) => e.state));
    await page.waitForTimeout(300);
    result.phone_state = await page.textContent('#phone-state');
  } catch (e) {
    result.error = String(e && e.stack || e);
    result.page_logs = b.logs.slice(-30);
    await b.screenshot('agent_consult-failed').catch(() => {});
  } finally {
    await b.close();
  }
  console.log(JSON.stringify(result));
})();
