// What the browser tests share (browser_test.js, certificate_test.js):
// Debian's Chromium with a fresh profile per context, and TAP-like checks
// counted in `state.failures`.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const state = { failures: 0 };
function check(cond, msg) {
  if (cond) {
    console.log('ok - ' + msg);
  } else {
    state.failures++;
    console.log('not ok - ' + msg);
  }
  return cond;
}

async function newContext(options = {}) {
  // A fresh profile for every context (--user-data-dir).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'acervo-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true, args: FLAGS, acceptDownloads: true,
    viewport: { width: 1400, height: 1000 }, locale: 'pt-BR', ...options,
  });
  context.profileDir = dir;
  const page = context.pages()[0] || await context.newPage();
  return { context, page };
}

async function close(c) {
  await c.context.close();
  fs.rmSync(c.context.profileDir, { recursive: true, force: true });
}

module.exports = { state, check, newContext, close };
