// Starts Debian's headless Chromium the way humanline's browser tests need it (DESIGN.md §7):
// fake microphone (optionally fed from a WAV file), microphone permission granted, autoplay
// allowed, loopback ICE candidates with real addresses (no mDNS), and no background traffic
// to the outside world (this machine has none; without these flags Chromium keeps retrying).
//
// Every launch gets a fresh --user-data-dir, removed on close. Screenshots go to
// $SCREENSHOT_DIR (tests/common/browser.rs sets it to target/screenshots).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** The command-line flags; `audioWav` feeds the fake microphone from that file (looped). */
function chromiumArgs({ audioWav } = {}) {
  const args = [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--disable-extensions',
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
    '--allow-loopback-in-peer-connection',
    '--disable-features=WebRtcHideLocalIpsWithMdns,MediaRouter,OptimizationHints,Translate',
    '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1',
  ];
  if (audioWav) {
    if (!fs.existsSync(audioWav)) throw new Error(`fake audio file ${audioWav} does not exist`);
    args.push(`--use-file-for-fake-audio-capture=${audioWav}`);
  }
  return args;
}

/**
 * Launches Chromium with a fresh profile and returns `{ context, page, close, screenshot }`.
 * `close()` ends the browser and removes the profile; `screenshot(name)` saves
 * `$SCREENSHOT_DIR/<name>.png` and returns its path.
 */
async function launch({ audioWav, headless = true } = {}) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'humanline-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless,
    args: chromiumArgs({ audioWav }),
    ignoreDefaultArgs: ['--mute-audio'],
    permissions: ['microphone'],
    viewport: { width: 1100, height: 800 },
  });
  const page = context.pages()[0] || (await context.newPage());
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  };
  const screenshot = async (name, p = page) => {
    const dir = process.env.SCREENSHOT_DIR || path.join(process.cwd(), 'screenshots');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${name}.png`);
    await p.screenshot({ path: file, fullPage: true });
    return file;
  };
  return { context, page, logs, close, screenshot };
}

module.exports = { launch, chromiumArgs, CHROMIUM };
