// axe-core in a page: injected from node_modules (never a CDN), run over the whole document with
// the WCAG 2.0/2.1 A and AA rules and axe's best practices. The page's CSP allows only its own
// scripts, so axe goes in through the DevTools protocol (page.evaluate), not a <script> tag.
'use strict';

const fs = require('fs');

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

/**
 * Runs axe on `page` and returns `{ label, violations: [{ id, impact, help, nodes }], passes,
 * incomplete }` (nodes: up to 5 CSS selectors of offending elements, with axe's summary).
 */
async function axeCheck(page, label) {
  const loaded = await page.evaluate(() => typeof window.axe === 'object');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const r = await page.evaluate(async (tags) => {
    const res = await window.axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return {
      violations: res.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary || ''}`),
      })),
      passes: res.passes.length,
      incomplete: res.incomplete.map((v) => v.id),
    };
  }, TAGS);
  return { label, ...r };
}

module.exports = { axeCheck };
