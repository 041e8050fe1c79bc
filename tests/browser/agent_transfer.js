// A transfer after the bridge in the console: alice (queue support) and bob (queue billing)
// sign in and go Ready; alice accepts the caller the server offers (a SIP caller who pressed 0),
// types notes, picks "billing" and presses Transfer; bob's console rings with the screen pop,
// which names alice and carries her notes; bob accepts and talks. Prints one JSON object;
// tests/browser_transfer.rs plays the caller and asserts on it.
//
// Environment: BASE, PASSWORD (both agents'), MIC_WAV (the agents' voice), SIGNAL_DIR (this
// script writes `ready` when both are Ready and `bob_talking` at the end), NOTES.
'use strict';

const fs = require('fs');
const path = require('path');
const { launch } = require('./lib/launch');

const BASE = process.env.BASE;
const SIGNALS = process.env.SIGNAL_DIR;
const T = 20000;
const signal = (name) => fs.writeFileSync(path.join(SIGNALS, name), String(Date.now()));

async function signIn(b, name) {
  const page = b.page;
  await page.goto(`${BASE}/agent`);
  await page.waitForURL(/\/login\?next=/, { timeout: T });
  await page.fill('#name', name);
  await page.fill('#password', process.env.PASSWORD);
  await Promise.all([page.waitForURL(`${BASE}/agent`, { timeout: T }), page.click('button[type=submit]')]);
  await page.waitForFunction(() => document.getElementById('conn').textContent === 'Connected', null, { timeout: T });
  await page.click('#btn-ready');
  await page.waitForFunction(() => document.getElementById('status-word').textContent === 'Ready', null, { timeout: T });
}

async function acceptWhenRinging(page) {
  await page.waitForSelector('#btn-accept', { state: 'visible', timeout: 45000 });
  const pop = {
    decline_label: await page.textContent('#btn-decline'),
    reason: await page.textContent('#pop-reason'),
    queue: await page.textContent('#pop-queue'),
    handed_visible: await page.locator('#pop-handed').isVisible(),
    handed: await page.$$eval('#pop-handed-list li', (l) => l.map((x) => x.textContent)),
    transcript: await page.$$eval('#pop-transcript li', (l) => l.map((x) => x.textContent)),
  };
  await page.click('#btn-accept');
  await page.waitForFunction(() => window.humanline.pc && window.humanline.pc.connectionState === 'connected', null, { timeout: T });
  return pop;
}

(async () => {
  const result = {};
  const alice = await launch({ audioWav: process.env.MIC_WAV });
  const bob = await launch({ audioWav: process.env.MIC_WAV });
  try {
    await signIn(alice, 'alice');
    await signIn(bob, 'bob');
    result.transfer_queues = await alice.page.$$eval('#transfer-queue option', (o) => o.map((x) => x.value));
    signal('ready');

    result.alice_pop = await acceptWhenRinging(alice.page);
    await alice.page.waitForTimeout(1500);
    result.transfer_visible = await alice.page.locator('#transfer').isVisible();
    await alice.page.fill('#notes', process.env.NOTES);
    await alice.page.selectOption('#transfer-queue', 'billing');
    result.screenshot_alice = await alice.screenshot('agent_transfer_alice');
    await alice.page.click('#btn-transfer');
    await alice.page.waitForFunction(() => document.getElementById('phone-state').textContent.includes('passed the caller'), null, { timeout: T });
    result.alice_state = await alice.page.textContent('#phone-state');

    result.bob_pop = await acceptWhenRinging(bob.page);
    result.screenshot_bob = await bob.screenshot('agent_transfer_bob');
    await bob.page.waitForTimeout(2000);
    result.bob_status = await bob.page.textContent('#status-word');
    signal('bob_talking');
    await bob.page.waitForFunction(() => window.humanline.events.some((e) => e.type === 'ended'), null, { timeout: 30000 });
  } catch (e) {
    result.error = String(e && e.stack || e);
    result.page_logs = alice.logs.slice(-15).concat(bob.logs.slice(-15));
    await alice.screenshot('agent_transfer-failed-alice').catch(() => {});
    await bob.screenshot('agent_transfer-failed-bob').catch(() => {});
  } finally {
    await alice.close();
    await bob.close();
  }
  console.log(JSON.stringify(result));
})();
