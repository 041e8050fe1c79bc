// The agent console's sign-in, shared by the console scripts: log in at /agent and wait until
// its socket is connected.
'use strict';

const T = 20000;

/** Signs `name` in at `${base}/agent` and waits for the console's socket. */
async function signIn(page, base, name, password) {
  await page.goto(`${base}/agent`);
  await page.waitForURL(/\/login\?next=/, { timeout: T });
  await page.fill('#name', name);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(`${base}/agent`, { timeout: T }), page.click('button[type=submit]')]);
  await page.waitForFunction(() => document.getElementById('conn').textContent === 'Connected', null, { timeout: T });
}

/** Presses Ready and waits for the status to say so. */
async function goReady(page) {
  await page.click('#btn-ready');
  await page.waitForFunction(() => document.getElementById('status-word').textContent === 'Ready', null, { timeout: T });
}

module.exports = { signIn, goReady };
