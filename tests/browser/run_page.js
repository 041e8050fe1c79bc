// Opens $PAGE_URL in headless Chromium and waits until the page sets `window.__result`; prints
// `{ "result": <that value>, "screenshot": <path>, "logs": [...] }` as one JSON line on stdout.
// The page does the work (signalling, WebRTC, getStats); this script only hosts it.
//
// Env: PAGE_URL (required), AUDIO_WAV (fake microphone input), TIMEOUT_MS (default 30000),
// SCREENSHOT (file name without .png, default "page"), SCREENSHOT_DIR.
// Exit status 1 with the reason on stderr when the page fails or times out.
'use strict';

const { launch } = require('./lib/launch');

async function main() {
  const url = process.env.PAGE_URL;
  if (!url) throw new Error('PAGE_URL is not set');
  const timeout = Number(process.env.TIMEOUT_MS || 30000);
  const b = await launch({ audioWav: process.env.AUDIO_WAV });
  try {
    await b.page.goto(url);
    let result;
    try {
      await b.page.waitForFunction(() => window.__result !== undefined, null, {
        timeout,
        polling: 100,
      });
      result = await b.page.evaluate(() => window.__result);
    } catch (e) {
      const shot = await b.screenshot(`${process.env.SCREENSHOT || 'page'}-failed`).catch(() => '');
      throw new Error(`${e.message}\nscreenshot: ${shot}\npage log:\n${b.logs.join('\n')}`);
    }
    const screenshot = await b.screenshot(process.env.SCREENSHOT || 'page');
    process.stdout.write(JSON.stringify({ result, screenshot, logs: b.logs }) + '\n');
  } finally {
    await b.close();
  }
}

main().catch((e) => {
  process.stderr.write(`run_page.js: ${e.stack || e}\n`);
  process.exit(1);
});
