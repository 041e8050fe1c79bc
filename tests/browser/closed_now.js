// The emergency "closed now" switch on the operator page, in headless Chromium: an operator
// signs in, is refused without a reason, closes the line with one, waits while the Rust test
// places a call (which must take the closed way), opens the line again and reads the history.
//
// Environment: BASE, OPERATOR_NAME, OPERATOR_PASSWORD, SIGNAL_DIR. Signals: writes `closed`,
// waits for `call_checked`, writes nothing more; prints one JSON object with what it saw.
'use strict';

const fs = require('fs');
const path = require('path');
const { launch } = require('./lib/launch');

const BASE = process.env.BASE;
const SIGNAL_DIR = process.env.SIGNAL_DIR;
const T = 15000;

function signal(name) { fs.writeFileSync(path.join(SIGNAL_DIR, name), ''); }
async function waitSignal(name, ms) {
  const file = path.join(SIGNAL_DIR, name);
  const end = Date.now() + ms;
  while (!fs.existsSync(file)) {
    if (Date.now() > end) throw new Error(`no ${name} signal within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
async function stateMatches(page, re) {
  await page.waitForFunction((src) => new RegExp(src).test(document.getElementById('line-state').textContent), re.source, { timeout: T });
  return page.textContent('#line-state');
}

(async () => {
  const result = {};
  const b = await launch();
  const page = b.page;
  try {
    await page.goto(`${BASE}/operator`);
    await page.waitForURL(/\/login\?next=/, { timeout: T });
    await page.fill('#name', process.env.OPERATOR_NAME);
    await page.fill('#password', process.env.OPERATOR_PASSWORD);
    await Promise.all([page.waitForURL(/\/operator/, { timeout: T }), page.click('button[type=submit]')]);
    result.before = await stateMatches(page, /^Open/);
    result.button_before = await page.textContent('#btn-line');

    // No reason: refused in the page, nothing changes.
    await page.click('#btn-line');
    result.without_reason = await stateMatches(page, /Say why/);

    await page.fill('#line-reason', 'fire alarm in the call centre');
    await page.click('#btn-line');
    result.closed = await stateMatches(page, /^Closed now: fire alarm/);
    result.button_closed = await page.textContent('#btn-line');
    await b.screenshot('closed_now');
    signal('closed');

    await waitSignal('call_checked', 60000);
    await page.click('#btn-line');
    result.after = await stateMatches(page, /^Open/);
    result.history = await page.$$eval('#line-history li', (lis) => lis.map((li) => li.textContent));
    result.logs = b.logs;
  } catch (e) {
    try { result.failure_screenshot = await b.screenshot('closed_now_failure'); } catch (_) { /* ignore */ }
    console.error(JSON.stringify({ partial: result, logs: b.logs }));
    throw e;
  } finally {
    await b.close();
  }
  console.log(JSON.stringify(result));
})().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
