// Supervisor monitoring from the board (issue 18, part 5): sam signs in at /supervisor, finds
// the call that is with an agent, presses Listen (the server rings sam's registered phone,
// which tests/browser_monitor.rs answers), sees "sam listening" in the call's row, presses
// Whisper, sees "sam whispering", presses Stop and sees the row without him. Prints one JSON
// object; the Rust test plays the caller, the agent and sam's phone and asserts on it.
//
// Environment: BASE, PASSWORD (sam's), SIGNAL_DIR (this script writes `clicked_listen`
// after the first click and `stopped` at the end).
'use strict';

const fs = require('fs');
const path = require('path');
const { launch } = require('./lib/launch');

const BASE = process.env.BASE;
const SIGNALS = process.env.SIGNAL_DIR;
const T = 30000;
const signal = (name) => fs.writeFileSync(path.join(SIGNALS, name), String(Date.now()));

async function cellShows(page, text) {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll('#calls .monitor-state')].some((s) => s.textContent === t),
    text, { timeout: T },
  );
}

(async () => {
  const result = {};
  const sam = await launch({});
  const page = sam.page;
  try {
    await page.goto(`${BASE}/supervisor`);
    await page.waitForURL(/\/login\?next=/, { timeout: T });
    await page.fill('#name', 'sam');
    await page.fill('#password', process.env.PASSWORD);
    await Promise.all([page.waitForURL(`${BASE}/supervisor`, { timeout: T }), page.click('button[type=submit]')]);
    await page.waitForSelector('#calls button[data-mode=listen]', { state: 'visible', timeout: T });
    result.buttons = await page.$$eval('#calls button', (b) => b.map((x) => x.textContent));
    result.listen_label = await page.getAttribute('#calls button[data-mode=listen]', 'aria-label');

    await page.click('#calls button[data-mode=listen]');
    await page.waitForFunction(() => document.getElementById('notice').textContent.includes('ringing'), null, { timeout: T });
    result.notice_after_listen = await page.textContent('#notice');
    signal('clicked_listen');
    await cellShows(page, 'sam listening');
    result.buttons_listening = await page.$$eval('#calls button', (b) => b.map((x) => x.textContent));
    result.screenshot = await sam.screenshot('supervisor_monitor');

    await page.click('#calls button[data-mode=whisper]');
    await cellShows(page, 'sam whispering');
    result.notice_after_whisper = await page.textContent('#notice');

    await page.click('#calls button[data-mode=stop]');
    await page.waitForFunction(() => document.querySelectorAll('#calls .monitor-state').length === 0
      && document.querySelector('#calls button[data-mode=listen]') !== null, null, { timeout: T });
    result.stopped = true;
    signal('stopped');
  } catch (e) {
    result.error = String(e && e.stack || e);
    result.page_logs = sam.logs.slice(-15);
    await sam.screenshot('supervisor_monitor-failed').catch(() => {});
  } finally {
    await sam.close();
  }
  console.log(JSON.stringify(result));
})();
