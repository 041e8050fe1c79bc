// Drives the operator page in headless Chromium as an operator would: sign in, open
// support.toml, break a node reference and read the inline error, fix it by adding a node,
// simulate a caller, publish (while tests/operator_pages.rs holds a sipp call open), diff the
// two versions, roll back, and look at the prompts panel. Prints one JSON object with what it
// saw; the Rust test asserts on it.
//
// Environment: BASE, OPERATOR_NAME, OPERATOR_PASSWORD, SCREENSHOT_DIR, SIGNAL_DIR. Signals:
// the script writes `ready_to_publish`, waits for `call_a_started`, publishes, writes
// `published` ({"old":ID,"new":ID}), waits for `calls_checked`, then diffs and rolls back.
'use strict';

const fs = require('fs');
const path = require('path');
const { launch } = require('./lib/launch');

const BASE = process.env.BASE;
const SIGNAL_DIR = process.env.SIGNAL_DIR;
const T = 15000;

function signal(name, text = '') { fs.writeFileSync(path.join(SIGNAL_DIR, name), text); }
async function waitSignal(name, ms) {
  const file = path.join(SIGNAL_DIR, name);
  const end = Date.now() + ms;
  while (!fs.existsSync(file)) {
    if (Date.now() > end) throw new Error(`no ${name} signal from the test within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return fs.readFileSync(file, 'utf8');
}

/** Puts the cursor at (line, ch) of the editor, 0-based, through CodeMirror's API. */
async function cursor(page, line, ch) {
  await page.evaluate(([l, c]) => { const cm = window.operator.cm; cm.focus(); cm.setCursor({ line: l, ch: c }); }, [line, ch]);
}
/** The 0-based index of the first editor line matching `re` (after line `from`). */
async function findLine(page, re, from = 0) {
  return page.evaluate(([src, f]) => {
    const r = new RegExp(src);
    const lines = window.operator.cm.getValue().split('\n');
    for (let i = f; i < lines.length; i++) if (r.test(lines[i])) return i;
    return -1;
  }, [re.source, from]);
}
async function statusIs(page, re) {
  await page.waitForFunction((src) => new RegExp(src).test(document.getElementById('check-status').textContent), re.source, { timeout: T });
}

(async () => {
  const result = {};
  const b = await launch();
  const page = b.page;
  try {
    await page.setViewportSize({ width: 1600, height: 1150 });
    await page.goto(`${BASE}/operator`);
    await page.waitForURL(/\/login\?next=/, { timeout: T });
    await page.fill('#name', process.env.OPERATOR_NAME);
    await page.fill('#password', process.env.OPERATOR_PASSWORD);
    await Promise.all([page.waitForURL(/\/operator/, { timeout: T }), page.click('button[type=submit]')]);
    await page.waitForSelector('#plans [data-plan="support"]', { timeout: T });
    result.plans_before = await page.$$eval('#plans li', (lis) => lis.map((li) => li.textContent));
    await page.click('#plans [data-plan="support"]');
    await page.waitForFunction(() => document.getElementById('plan-title').textContent === 'support.toml', null, { timeout: T });
    await statusIs(page, /^valid/);
    await page.waitForSelector('#graph [data-node="menu"]', { timeout: T });
    result.live_before = Number(await page.getAttribute('#plan-live', 'data-live'));
    result.nodes_before = await page.$$eval('#graph [data-node]', (ns) => ns.map((n) => n.dataset.node));
    result.has_codemirror = await page.evaluate(() => !!document.querySelector('#editor .CodeMirror') && typeof window.CodeMirror === 'function');
    result.toml_tokens = await page.$$eval('#editor .cm-string', (s) => s.length);

    // 1. A broken node reference: welcome's `next = "menu"` becomes "menuu", typed.
    const nextLine = await findLine(page, /^next = "menu"/);
    const lineText = await page.evaluate((l) => window.operator.cm.getLine(l), nextLine);
    await cursor(page, nextLine, lineText.lastIndexOf('"'));
    await page.keyboard.type('u');
    result.broken_line = nextLine + 1;
    await page.waitForSelector('.diag-widget', { timeout: T });
    await statusIs(page, /error/);
    result.status_broken = await page.textContent('#check-status');
    result.publish_disabled_while_broken = await page.isDisabled('#btn-publish');
    result.widgets = await page.$$eval('.diag-widget', (ws) => ws.map((w) => {
      const row = w.closest('.CodeMirror-code > div');
      const num = row && row.querySelector('.CodeMirror-linenumber');
      return { line: Number(w.dataset.line), shown_under_line: num ? Number(num.textContent) : null, text: w.textContent, severity: w.dataset.severity };
    }));
    result.markers = await page.$$eval('.diag-marker', (ms) => ms.map((m) => {
      const row = m.closest('.CodeMirror-code > div');
      const num = row && row.querySelector('.CodeMirror-linenumber');
      return { line: Number(m.dataset.line), shown_at_line: num ? Number(num.textContent) : null };
    }));
    result.broken_screenshot = await b.screenshot('operator_error_inline');

    // 2. Fixed, and a new node: key 5 at the menu goes to `callback`, which says goodbye.
    await page.keyboard.press('Backspace');
    await statusIs(page, /^valid/);
    result.widgets_after_fix = await page.$$eval('.diag-widget', (ws) => ws.length);
    const menuAt = await findLine(page, /^\[nodes\.menu\]/);
    const lastChoice = await findLine(page, /dtmf = "4"/, menuAt);
    await cursor(page, lastChoice, (await page.evaluate((l) => window.operator.cm.getLine(l), lastChoice)).length);
    await page.keyboard.press('Enter');
    await page.keyboard.type('{ dtmf = "5", words = ["call me back", "callback"], go = "callback" },');
    await page.evaluate(() => { const cm = window.operator.cm; cm.focus(); cm.setCursor({ line: cm.lastLine(), ch: cm.getLine(cm.lastLine()).length }); });
    await page.keyboard.type('\n[nodes.callback]\nsay = "goodbye"\nhangup = true\n');
    await statusIs(page, /^valid/);
    await page.waitForSelector('#graph [data-node="callback"]', { timeout: T });
    result.nodes_after = await page.$$eval('#graph [data-node]', (ns) => ns.map((n) => ({ id: n.dataset.node, kind: n.dataset.kind })));
    result.edge_to_callback = await page.$$eval('#graph path.edge[data-to="callback"]', (ps) => ps.map((p) => ({ from: p.dataset.from, kind: p.dataset.kind })));
    result.faint_edges = await page.$$eval('#graph path.e-zero_out, #graph path.e-escalation', (ps) => ps.length);
    result.choice_labels = await page.$$eval('#graph text.label', (ts) => ts.map((t) => t.textContent));
    result.publish_enabled_when_valid = !(await page.isDisabled('#btn-publish'));

    // 3. The simulator on the editor's text.
    await page.fill('#sim-input', 'billing');
    await page.click('#btn-say');
    await page.waitForFunction(() => document.getElementById('sim-node').dataset.node === 'billing', null, { timeout: T });
    result.sim_node = await page.textContent('#sim-node');
    result.sim_score_shown = await page.textContent('#sim-score');
    await page.fill('#sim-input', 'I want a human');
    await page.click('#btn-say');
    await page.waitForSelector('#sim-escalation', { state: 'visible', timeout: T });
    result.sim_reason = await page.getAttribute('#sim-escalation', 'data-reason');
    result.sim_escalation_text = await page.textContent('#sim-escalation');
    result.sim_log = await page.$$eval('#sim-log li', (lis) => lis.map((li) => li.textContent));
    result.visible = {};
    for (const s of ['#editor .CodeMirror', '#graph svg', '#graph [data-node="callback"]', '#sim-log li', '#sim-escalation', '#btn-publish', '#keypad', '#versions']) {
      result.visible[s] = await page.locator(s).first().isVisible();
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    // The viewport only: editor, graph and simulator (the prompts table below is long).
    result.editor_screenshot = path.join(process.env.SCREENSHOT_DIR, 'operator_editor.png');
    fs.mkdirSync(process.env.SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: result.editor_screenshot });
    await page.locator('#graph').screenshot({ path: path.join(process.env.SCREENSHOT_DIR, 'operator_graph.png') });

    // 4. Publish while the test's first sipp call is running.
    signal('ready_to_publish');
    await waitSignal('call_a_started', 60000);
    await page.click('#btn-publish');
    await page.waitForFunction(() => document.getElementById('publish-result').dataset.version, null, { timeout: T });
    result.published_version = Number(await page.getAttribute('#publish-result', 'data-version'));
    result.publish_text = await page.textContent('#publish-result');
    await page.waitForFunction((v) => document.getElementById('plan-live').dataset.live === String(v), result.published_version, { timeout: T });
    signal('published', JSON.stringify({ old: result.live_before, new: result.published_version }));
    await waitSignal('calls_checked', 90000);

    // 5. Diff old → new, then roll back to the old version.
    await page.check(`#versions tr[data-version="${result.live_before}"] input[name=from]`);
    await page.check(`#versions tr[data-version="${result.published_version}"] input[name=to]`);
    await page.click('#btn-diff');
    await page.waitForSelector('#diff:not([hidden]) .ln', { timeout: T });
    result.diff_added = await page.$$eval('#diff .ln.add .text', (ts) => ts.map((t) => t.textContent));
    result.diff_removed = await page.$$eval('#diff .ln.del .text', (ts) => ts.map((t) => t.textContent));
    result.diff_screenshot = await b.screenshot('operator_diff');
    await page.click(`#versions button.rollback[data-version="${result.live_before}"]`);
    await page.waitForFunction((v) => document.getElementById('version-result').dataset.live === String(v), result.live_before, { timeout: T });
    await page.waitForFunction((v) => document.getElementById('plan-live').dataset.live === String(v), result.live_before, { timeout: T });
    result.plans_after = await page.$$eval('#plans li', (lis) => lis.map((li) => li.textContent));
    result.live_row_after = await page.$$eval('#versions tr.live', (rs) => rs.map((r) => Number(r.dataset.version)));
    result.editor_has_callback_after = await page.evaluate(() => window.operator.cm.getValue().includes('[nodes.callback]'));

    // 6. The prompts panel.
    await page.waitForSelector('#prompts-en tr[data-prompt="welcome"]', { timeout: T });
    result.prompt_rows_en = await page.$$eval('#prompts-en tbody tr', (rs) => rs.length);
    result.welcome_row = await page.evaluate(async () => {
      const row = document.querySelector('#prompts-en tr[data-prompt="welcome"]');
      const audio = row.querySelector('audio');
      const r = await fetch(audio.getAttribute('src'));
      const bytes = new Uint8Array(await r.arrayBuffer());
      return {
        text: row.querySelector('input[type=text]').value, length: row.querySelector('.len').textContent,
        audio_status: r.status, riff: String.fromCharCode(...bytes.slice(0, 4)), has_upload: !!row.querySelector('input[type=file]'),
        has_regenerate: !!row.querySelector('button.regen'),
      };
    });
    await page.click('#tab-zh');
    result.zh_rows = await page.$$eval('#prompts-zh tbody tr', (rs) => rs.length);
    result.zh_visible = await page.isVisible('#prompts-zh');
    result.logs = b.logs;
  } catch (e) {
    try { result.failure_screenshot = await b.screenshot('operator_failure'); } catch (_) { /* ignore */ }
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
