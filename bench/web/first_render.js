// Search page first render in Chromium (issue 13, item 11): navigation
// timing of /search?q=WORD as a signed-in user, N runs, median and worst.
//   node first_render.js URL USER PASSWORD "WORD1,WORD2,..." RUNS
// Run by bench/web_bench.sh with playwright-core from build/browser-tests.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

(async () => {
  const [base, user, password, words, runs] = process.argv.slice(2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'acervo-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] || await context.newPage();
  await page.goto(base + '/login');
  await page.fill('#user', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('main button[type=submit]')]);
  const list = words.split(',');
  const fcp = [], load = [], server = [], shown = [];
  for (let i = 0; i < Number(runs); i++) {
    const w = list[i % list.length];
    // Hits on screen: from the navigation's start until the list of hits
    // (or the no-results note) is visible — the page sends its hits before
    // its counts (docs/web.md). Playwright polls, so this is an upper
    // bound. (Headless Chromium's first-contentful-paint entry is often
    // missing or later than the load event here: shown for reference.)
    const t0 = Date.now();
    await page.goto(`${base}/search?q=${encodeURIComponent(w)}`, { waitUntil: 'commit' });
    await page.waitForSelector('#hits, #no-results', { state: 'visible' });
    shown.push(Date.now() - t0);
    await page.waitForLoadState('load');
    const t = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const paint = performance.getEntriesByName('first-contentful-paint')[0];
      return { fcp: paint ? paint.startTime : NaN, load: nav.loadEventEnd, ttfb: nav.responseStart };
    });
    fcp.push(t.fcp);
    load.push(t.load);
    server.push(t.ttfb);
  }
  const stat = (a) => {
    const s = [...a].sort((x, y) => x - y);
    return `median ${s[Math.floor(s.length / 2)].toFixed(0)} ms, p90 ${s[Math.floor(s.length * 0.9)].toFixed(0)} ms, worst ${s[s.length - 1].toFixed(0)} ms`;
  };
  console.log(`runs: ${runs}`);
  console.log(`hits visible (wall clock):   ${stat(shown)}`);
  console.log(`time to first byte (server): ${stat(server)}`);
  console.log(`first contentful paint:      ${stat(fcp)}`);
  console.log(`load event end:              ${stat(load)}`);
  await context.close();
  fs.rmSync(dir, { recursive: true, force: true });
})();
