// acervo serve in a real browser (issue 13, item 10): Debian's headless
// Chromium driven by playwright-core. Run by tests/browser/run.sh (CTest
// `web_browser_test`), which builds two lots, users and a server first.
//
// Scenario: a reader logs in; searches a word with an accent typed without
// it; opens the result; the highlight boxes lie over that word on the right
// page (their position is compared with the OCR boxes the API returns); the
// next hit is on another page; the PDF downloads; a word found only through
// an OCR misreading (issue 15's forgiving search) is boxed too; an admin
// sees the search, the view and the download in the audit trail; a reader
// without the lot sees nothing of it (results, counts, filters, guessed
// URLs, API); the same pages work with JavaScript off. Screenshots go to
// $ARTIFACTS.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const BASE = process.env.ACERVO_URL;
const ART = process.env.ARTIFACTS;
const PW = process.env.ACERVO_TEST_PASSWORD;
const { state, check, newContext, close } = require('./common.js');

// Folded like the index: lower case, no accents, letters and digits only.
function fold(s) {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]/g, '');
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(ART, name), fullPage: true });
}

async function login(page, user) {
  await page.goto(BASE + '/login');
  await page.fill('#user', user);
  await page.fill('#password', PW);
  await Promise.all([page.waitForNavigation(), page.click('main button[type=submit]')]);
  check((await page.textContent('#whoami')) === user, `${user} signs in`);
}

async function search(page, q) {
  await page.fill('#q', q);
  await Promise.all([page.waitForNavigation(), page.press('#q', 'Enter')]);
}

async function fetchJson(page, url) {
  return page.evaluate(async (u) => {
    const r = await fetch(u);
    return { status: r.status, body: await r.json() };
  }, url);
}

async function imageLoaded(page) {
  await page.waitForFunction(() => {
    const i = document.getElementById('page-image');
    return i && i.complete && i.naturalWidth > 0;
  });
}

// The highlight rectangles and the page image, as laid out on screen.
async function layout(page) {
  const boxes = await page.$$eval('svg.hits rect.hit', (rs) => rs.map((r) => {
    const b = r.getBoundingClientRect();
    return { x: b.x, y: b.y, w: b.width, h: b.height, word: r.getAttribute('data-word') };
  }));
  const img = await page.$eval('#page-image', (i) => {
    const b = i.getBoundingClientRect();
    return { x: b.x, y: b.y, w: b.width, h: b.height };
  });
  return { boxes, img };
}

// The words the search matched on a page of a document, folded (issue
// 15's TermMatch: the word itself, inflections, OCR misreadings...).
async function matchedWords(page, q, lot, doc, pageNo) {
  const r = await fetchJson(page, `/api/v1/search?q=${encodeURIComponent(q)}&lot=${encodeURIComponent(lot)}&limit=100`);
  const hit = r.body.hits.find((h) => h.document === doc);
  if (!hit) return new Set();
  return new Set(hit.matches.filter((m) => m.pages.includes(pageNo)).flatMap((m) => m.matched.split(' ')));
}

// The boxes on screen are the OCR boxes the API gives for the matching
// words, placed where those words are on the page image, over ink.
async function checkBoxesOverWords(page, { lot, doc, pageNo, q, boxes, img }) {
  const api = await fetchJson(page, `/api/v1/documents/${encodeURIComponent(lot)}/${encodeURIComponent(doc)}/pages/${pageNo}?q=${encodeURIComponent(q)}`);
  check(api.status === 200 && api.body.hits.length === boxes.length, `as many boxes as OCR words matching "${q}"`);
  let worst = 0;
  api.body.hits.forEach((h, i) => {
    const b = boxes[i];
    const cx = (b.x + b.w / 2 - img.x) / img.w;
    const cy = (b.y + b.h / 2 - img.y) / img.h;
    worst = Math.max(worst, Math.abs(cx - (h.fx + h.fw / 2)), Math.abs(cy - (h.fy + h.fh / 2)));
    check(b.w >= h.fw * img.w && b.h >= h.fh * img.h, `box ${i + 1} covers the OCR box of "${h.text}"`);
  });
  check(worst < 0.005, `box centres within ${(worst * 100).toFixed(3)}% of the page from the OCR boxes`);
  // The pixels under the first box hold ink (a word, not blank paper).
  const b0 = boxes[0];
  const ink = await page.evaluate(({ b, img }) => {
    const i = document.getElementById('page-image');
    const canvas = document.createElement('canvas');
    canvas.width = i.naturalWidth;
    canvas.height = i.naturalHeight;
    const g = canvas.getContext('2d');
    g.drawImage(i, 0, 0);
    const sx = i.naturalWidth / img.w;
    const sy = i.naturalHeight / img.h;
    const d = g.getImageData(Math.round((b.x - img.x) * sx), Math.round((b.y - img.y) * sy),
      Math.max(1, Math.round(b.w * sx)), Math.max(1, Math.round(b.h * sy))).data;
    let dark = 0;
    for (let k = 0; k < d.length; k += 4) if (d[k] + d[k + 1] + d[k + 2] < 300) dark++;
    return dark / (d.length / 4);
  }, { b: b0, img });
  check(ink > 0.05, `the first box lies over ink (${(ink * 100).toFixed(1)}% dark pixels)`);
  return api;
}

async function readerScenario() {
  const c = await newContext();
  const { page } = c;
  await login(page, 'leitor');

  // Search without the accent.
  await search(page, 'certidao');
  const total = Number((await page.textContent('#total')).replace(/\D/g, ''));
  check(total >= 1, `"certidao" finds ${total} document(s)`);
  // The counts come after the hits in the document (sent first): CSS puts
  // the filters at the left and the total above the hits all the same.
  const boxesOf = await page.evaluate(() => Object.fromEntries(['#facets', '#summary', '#hits'].map((s) => {
    const r = document.querySelector(s).getBoundingClientRect();
    return [s, { x: r.x, y: r.y, w: r.width }];
  })));
  check(boxesOf['#facets'].x + boxesOf['#facets'].w <= boxesOf['#hits'].x &&
        boxesOf['#summary'].y < boxesOf['#hits'].y && boxesOf['#facets'].y <= boxesOf['#hits'].y,
        `filters left of the hits, total above them (${JSON.stringify(boxesOf)})`);
  const metas = await page.$$eval('ol.hits .meta', (m) => m.map((x) => x.textContent));
  check(metas.length > 0 && metas.every((m) => m.includes('browser-a')), 'every hit is of the granted lot');
  const snippet = await page.$$eval('ol.hits .snippet mark', (m) => m.map((x) => x.textContent));
  check(snippet.some((w) => fold(w) === 'certidao'), 'the snippet marks certidão');
  await shot(page, '01-search-certidao.png');

  // Open the first result: the page of its first hit.
  await Promise.all([page.waitForNavigation(), page.locator('a.doc-link').first().click()]);
  const url = new URL(page.url());
  const [, , lot, doc] = url.pathname.split('/').map(decodeURIComponent);
  const pageNo = Number(url.searchParams.get('page'));
  check(pageNo >= 1, `the document opens at page ${pageNo}`);
  await imageLoaded(page);
  const { boxes, img } = await layout(page);
  check(boxes.length >= 1, `${boxes.length} highlight box(es) on the scan`);
  check(boxes.some((b) => fold(b.word) === 'certidao'), 'certidão is boxed');
  // Every box is a word the search matched on this page (certidão, or an
  // inflection or misreading of it the search found): one notion of a hit.
  const variants = await matchedWords(page, 'certidao', lot, doc, pageNo);
  check(variants.has('certidao') && boxes.every((b) => variants.has(fold(b.word))),
    `every highlighted word is one the search matched (${[...variants].join(', ')})`);

  // The right page: its OCR text holds the word; the boxes are the OCR
  // boxes of the matching words, placed where they are on the page image.
  const api = await checkBoxesOverWords(page, { lot, doc, pageNo, q: 'certidao', boxes, img });
  check(fold(api.body.text).includes('certidao'), 'the page shown holds the word (OCR text)');
  await page.locator('svg.hits rect.hit').first().scrollIntoViewIfNeeded();
  await shot(page, '02-document-highlight.png');

  // Next hit, on another page.
  if (check(await page.$('#next-hit') !== null, 'a next hit across pages')) {
    await Promise.all([page.waitForNavigation(), page.click('#next-hit')]);
    const next = Number(new URL(page.url()).searchParams.get('page'));
    check(next > pageNo, `next hit on page ${next}`);
    await imageLoaded(page);
    check((await layout(page)).boxes.length >= 1, 'highlights on the next hit page');
    check(await page.$('#prev-hit') !== null, 'and a way back');
    await shot(page, '03-next-hit.png');
  }

  // Download the PDF and check it against the store's hash.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const bytes = fs.readFileSync(await download.path());
  check(bytes.subarray(0, 5).toString() === '%PDF-', `the PDF downloads (${bytes.length} bytes)`);
  const sha = crypto.createHash('sha256').update(bytes).digest('hex');
  await page.goto(`${BASE}/integrity/${encodeURIComponent(lot)}/${encodeURIComponent(doc)}`);
  check((await page.textContent('#integrity')).includes(sha), 'the downloaded PDF has the SHA-256 recorded in the store');
  check((await page.getAttribute('#integrity-verdict', 'class')) === 'good', 'the integrity panel says intact');
  await shot(page, '04-integrity.png');
  await close(c);
  return { lot, doc };
}

async function adminScenario(opened) {
  const c = await newContext();
  const { page } = c;
  await login(page, 'admin');
  await page.goto(BASE + '/admin/audit?user=leitor');
  const rows = await page.$$eval('tr.audit-row', (rs) => rs.map((r) => Array.from(r.cells).map((td) => td.textContent)));
  const has = (action, pred) => rows.some((r) => r[4] === action && pred(r));
  const target = `${opened.lot}/${opened.doc}`;
  check(has('login', () => true), 'the audit trail shows the reader\'s login');
  check(has('search', (r) => r[6] === 'certidao'), 'the audit trail shows the search with its query');
  check(has('view_document', (r) => r[5].startsWith(target)), 'the audit trail shows the document view');
  check(has('view_page', (r) => r[5].startsWith(target)), 'the audit trail shows the page views');
  check(has('download', (r) => r[5] === target), 'the audit trail shows the download');
  check(rows.every((r) => r[3] !== ''), 'every row says from where');
  await shot(page, '05-audit.png');
  await page.goto(BASE + '/admin/audit?verify=1');
  check((await page.getAttribute('#chain', 'class')) === 'ok', 'the hash chain verifies');
  // LGPD (issue 19): the data-subject report of the opened document's CPF
  // lists that document and the reader's accesses to it.
  const doc = await fetchJson(page, `/api/v1/documents/${encodeURIComponent(opened.lot)}/${encodeURIComponent(opened.doc)}`);
  const cpfField = (doc.body.fields || []).find((f) => f.name === 'cpf');
  check(cpfField && /^\d{3}\.\d{3}\.\d{3}-\d{2}$/.test(cpfField.value), 'the admin sees the document\'s CPF');
  await page.goto(BASE + '/admin/lgpd');
  await page.fill('#cpf', cpfField.value);
  await Promise.all([page.waitForNavigation(), page.click('#lgpd-form button[type=submit]')]);
  check((await page.textContent('#lgpd-cpf')) === cpfField.value, 'the LGPD report names the CPF');
  const section = page.locator(`section.lgpd-doc[data-doc="${target}"]`);
  check((await section.count()) === 1, 'the LGPD report lists the document holding the CPF');
  const accessRows = await section.locator('#lgpd-access tr').allTextContents();
  check(accessRows.some((r) => r.includes('leitor') && r.includes('view_document')), 'the LGPD report lists the reader\'s view');
  check(accessRows.some((r) => r.includes('leitor') && r.includes('download')), 'the LGPD report lists the reader\'s download');
  await shot(page, '09-lgpd-report.png');
  await page.goto(BASE + '/admin/lgpd?cpf=123');
  check((await page.textContent('#lgpd-error')).includes('not a CPF'), 'a wrong CPF is refused with the reason');
  await page.goto(BASE + '/admin/audit?action=lgpd_report');
  const lgpdRows = await page.$$eval('tr.audit-row', (rs) => rs.map((r) => r.cells[5].textContent));
  check(lgpdRows.includes(cpfField.value), 'the report request itself is audited');
  await close(c);
}

async function outsiderScenario(opened) {
  const c = await newContext();
  const { page } = c;
  await login(page, 'outro');
  await search(page, 'certidao');
  const body = await page.textContent('main');
  check(!body.includes('browser-a') && !body.includes('Certidão de objeto'), 'no result, count or filter names lot A');
  const metas = await page.$$eval('ol.hits .meta', (m) => m.map((x) => x.textContent));
  check(metas.every((m) => m.includes('browser-b')), `only lot B in the results (${metas.length})`);
  await shot(page, '06-outsider-search.png');
  for (const p of [`/doc/${opened.lot}/${opened.doc}`, `/download/${opened.lot}/${opened.doc}`,
    `/page/${opened.lot}/${opened.doc}/1`, `/thumb/${opened.lot}/${opened.doc}/1`]) {
    const r = await page.goto(BASE + p);
    check(r.status() === 404, `a guessed URL ${p} is 404`);
  }
  await shot(page, '07-outsider-guessed-url.png');
  await page.goto(BASE + '/search');
  const api = await fetchJson(page, '/api/v1/search?q=certidao&facets=1');
  check(api.body.hits.every((h) => h.lot === 'browser-b') && api.body.facets.lots.every((f) => f.value === 'browser-b'),
    'the API shows nothing of lot A either');
  const doc = await fetchJson(page, `/api/v1/documents/${opened.lot}/${opened.doc}`);
  check(doc.status === 404, 'the API answers 404 for lot A\'s document');
  // Nor through forgiving search: lot A's misread "Teixelra" is what
  // "teixeira" finds for the reader of lot A (forgivingScenario).
  await search(page, 'teixeira');
  const forgiving = await page.textContent('main');
  check(!forgiving.includes('browser-a') && !forgiving.includes('Termo de recebimento') && !/teixelra/i.test(forgiving),
    'a forgiving variant shows nothing of lot A');
  const fapi = await fetchJson(page, '/api/v1/search?q=teixeira&facets=1');
  check(fapi.status === 200 && fapi.body.total === 0 && fapi.body.hits.length === 0,
    `the API finds nothing of lot A through a forgiving variant (total ${fapi.body.total})`);
  await close(c);
}

// Issue 15 in the browser: "teixeira" is on no page, but OCR-like
// "Teixelra" is (doc-04-termo): forgiving search finds it, the results say
// what it matched as, and the document view boxes the misread word.
async function forgivingScenario() {
  const c = await newContext();
  const { page } = c;
  await login(page, 'leitor');
  await search(page, 'teixeira');
  const links = await page.$$eval('a.doc-link', (a) => a.map((x) => x.getAttribute('href')));
  check(links.some((h) => h.includes('doc-04-termo')), 'forgiving search finds the page with the misread word');
  const found = await page.$$eval('ol.hits .found-as b', (b) => b.map((x) => x.textContent));
  check(found.includes('teixelra'), `the hit says it matched "teixelra" (${found.join(', ')})`);
  const snippet = await page.$$eval('ol.hits .snippet mark', (m) => m.map((x) => x.textContent));
  check(snippet.some((w) => fold(w) === 'teixelra'), 'the snippet marks the misread word');
  await shot(page, '09-forgiving-search.png');
  await Promise.all([page.waitForNavigation(), page.locator('a.doc-link', { hasText: 'Termo' }).first().click()]);
  const url = new URL(page.url());
  const [, , lot, doc] = url.pathname.split('/').map(decodeURIComponent);
  const pageNo = Number(url.searchParams.get('page'));
  await imageLoaded(page);
  const { boxes, img } = await layout(page);
  check(boxes.length >= 1 && boxes.every((b) => fold(b.word) === 'teixelra'),
    `the misread word is boxed on the scan (${boxes.map((b) => b.word).join(', ')})`);
  if (boxes.length >= 1) await checkBoxesOverWords(page, { lot, doc, pageNo, q: 'teixeira', boxes, img });
  const marked = await page.$$eval('#page-text mark', (m) => m.map((x) => x.textContent));
  check(marked.some((w) => fold(w) === 'teixelra'), 'and marked in the page text');
  await page.locator('svg.hits rect.hit').first().scrollIntoViewIfNeeded();
  await shot(page, '10-forgiving-document.png');
  await close(c);
}

// Issue 14: an operator works the review queue of lot C: an invalid CPF and
// an impossible date shown as reasons; an invalid correction refused with
// the reason; a valid one saved (search finds the new value, the reasons
// go); a re-scan asked and accepted; page 1 replaced by uploading a new
// image (the page then shows its thumbnail, search and the document view
// its text); the document withdrawn. Every action is in the audit trail
// (checked by the admin afterwards).
async function reviewScenario() {
  const c = await newContext();
  const { page } = c;
  await login(page, 'operador');
  await page.goto(BASE + '/review');
  const lots = await page.$$eval('tr.review-lot a', (a) => a.map((x) => x.textContent));
  check(lots.length === 1 && lots[0] === 'browser-c', `the review list shows only the granted lot (${lots})`);
  await Promise.all([page.waitForNavigation(), page.click('tr.review-lot a')]);
  const flags = await page.$$eval('tr.review-item', (r) => r.map((x) => x.getAttribute('data-flag')).sort());
  check(JSON.stringify(flags) === JSON.stringify(['invalid_field:cpf', 'invalid_field:data']),
    `the queue shows the invalid CPF and date (${flags})`);
  const labels = await page.$$eval('tr.review-item td:nth-child(2)', (t) => t.map((x) => x.textContent));
  check(labels.some((l) => l.startsWith('Campo inválido')), 'reasons read in Portuguese');
  await shot(page, '09-review-queue.png');

  const form = 'section[data-doc="doc-06-declaracao"] form.review-set';
  await page.fill(`${form} input[data-field=cpf]`, '111.111.111-12');
  await Promise.all([page.waitForNavigation(), page.click(`${form} button[type=submit]`)]);
  const refused = await page.$('#review-error');
  check(refused !== null && (await refused.textContent()).includes('cpf'), 'an invalid CPF is refused with the reason');
  await shot(page, '10-review-refused.png');

  await page.fill(`${form} input[data-field=cpf]`, '529.982.247-25');
  await page.fill(`${form} input[data-field=data]`, '28/02/2024');
  await page.fill(`${form} input[name=note]`, 'conferido no original');
  await Promise.all([page.waitForNavigation(), page.click(`${form} button[type=submit]`)]);
  check(await page.$('#review-done') !== null, 'the correction is saved');
  check((await page.$$('tr.review-item')).length === 0, 'no reason left for the document');
  const found = await fetchJson(page, '/api/v1/search?q=' + encodeURIComponent('cpf:"529.982.247-25"'));
  check(found.status === 200 && found.body.hits.some((h) => h.document === 'doc-06-declaracao'),
    'search finds the corrected CPF at once');
  await shot(page, '11-review-saved.png');

  await page.fill('section[data-doc="doc-06-declaracao"] form.review-rescan input[name=page]', '1');
  await Promise.all([page.waitForNavigation(), page.click('section[data-doc="doc-06-declaracao"] form.review-rescan button')]);
  const rescan = await page.$$eval('tr.review-item', (r) => r.map((x) => x.getAttribute('data-kind')));
  check(JSON.stringify(rescan) === JSON.stringify(['rescan']), 'a re-scan request is queued for the page');
  await Promise.all([page.waitForNavigation(), page.click('tr.review-item button.accept')]);
  check((await page.$$('tr.review-item')).length === 0, 'accepted: nothing left to review');

  // A new image for page 1 (a page of lot A's certidão), uploaded here.
  const replace = 'section[data-doc="doc-06-declaracao"] form.review-replace';
  await page.fill(`${replace} input[name=page]`, '1');
  await page.setInputFiles(`${replace} input[name=image]`, process.env.REPLACEMENT_IMAGE);
  await page.fill(`${replace} input[name=note]`, 'folha nova');
  await Promise.all([page.waitForNavigation(), page.click(`${replace} button[type=submit]`)]);
  check(await page.$('#review-done') !== null, 'the page is replaced from the uploaded image');
  const thumb = 'section[data-doc="doc-06-declaracao"] tr.replaced-page[data-page="1"] img';
  await page.waitForFunction((s) => {
    const i = document.querySelector(s);
    return i && i.complete && i.naturalWidth > 0;
  }, thumb);
  await shot(page, '12-review-replaced.png');
  const replacedHits = await fetchJson(page, '/api/v1/search?q=Albertina&lot=browser-c');
  check(replacedHits.status === 200 && replacedHits.body.hits.some((h) => h.document === 'doc-06-declaracao'),
    'search finds the new page\'s text');
  await page.goto(BASE + '/doc/browser-c/doc-06-declaracao?page=1');
  check((await page.textContent('#page-text')).includes('Albertina'), 'the document view shows the new page\'s text');
  await page.goto(BASE + '/review/browser-c?doc=doc-06-declaracao');

  await page.fill('section[data-doc="doc-06-declaracao"] form.review-withdraw input[name=reason]', 'duplicado');
  await Promise.all([page.waitForNavigation(), page.click('section[data-doc="doc-06-declaracao"] form.review-withdraw button')]);
  check(await page.$('#review-done') !== null, 'the document is withdrawn');
  const gone = await page.goto(BASE + '/doc/browser-c/doc-06-declaracao');
  check(gone.status() === 404, 'a withdrawn document is no longer served');
  await close(c);

  const r = await newContext();
  await login(r.page, 'leitor');
  const denied = await r.page.goto(BASE + '/review');
  check(denied.status() === 403, 'a reader has no review queue');
  await close(r);

  const a = await newContext();
  await login(a.page, 'admin');
  await a.page.goto(BASE + '/admin/audit?user=operador');
  const actions = await a.page.$$eval('tr.audit-row', (rs) => rs.map((x) => x.cells[4].textContent));
  for (const act of ['review_set_refused', 'review_set', 'review_rescan', 'review_accept', 'review_replace',
    'review_withdraw']) {
    check(actions.includes(act), `the audit trail has ${act}`);
  }
  await close(a);
}

// Search and the document view with JavaScript off.
async function noScriptScenario() {
  const c = await newContext({ javaScriptEnabled: false });
  const { page } = c;
  await login(page, 'leitor');
  await search(page, 'certidao');
  check((await page.$$('a.doc-link')).length >= 1, 'without JavaScript: search works');
  await Promise.all([page.waitForNavigation(), page.locator('a.doc-link').first().click()]);
  check((await page.$$('svg.hits rect.hit')).length >= 1, 'without JavaScript: the hits are boxed on the scan');
  await shot(page, '08-no-javascript.png');
  await close(c);
}

(async () => {
  fs.mkdirSync(ART, { recursive: true });
  try {
    const opened = await readerScenario();
    await adminScenario(opened);
    await forgivingScenario();
    await outsiderScenario(opened);
    await noScriptScenario();
    await reviewScenario();
  } catch (e) {
    state.failures++;
    console.log('not ok - ' + (e.stack || e));
  }
  console.log(state.failures === 0 ? 'PASS: all browser checks' : `FAIL: ${state.failures} browser check(s) failed`);
  console.log('screenshots in ' + ART);
  process.exit(state.failures === 0 ? 0 : 1);
})();
