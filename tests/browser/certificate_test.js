// ICP-Brasil certificate login in a real browser (issue 19): Debian's
// headless Chromium driven by playwright-core, presenting client
// certificates (playwright's clientCertificates) to `acervo serve` over
// HTTPS. Run by tests/browser/run.sh after browser_test.js, which makes the
// test PKI (CERT_DIR: the reader's e-CPF, a revoked one) and starts the
// server with --tls-client-ca / --tls-client-crl.
//
// Scenario: the reader's e-CPF signs them in with the login page's button;
// a revoked certificate is refused with the reason on the page; a browser
// without a certificate still signs in with a password on the same port.
'use strict';
const fs = require('fs');
const path = require('path');
const { state, check, newContext: launch, close } = require('./common.js');

const BASE = process.env.ACERVO_CERT_URL;
const CERTS = process.env.CERT_DIR;
const ART = process.env.ARTIFACTS;
const PW = process.env.ACERVO_TEST_PASSWORD;

// A browser presenting the certificate `certName` (null: none) to BASE.
function newContext(certName) {
  const options = { ignoreHTTPSErrors: true };
  if (certName) {
    options.clientCertificates = [{
      origin: new URL(BASE).origin,
      certPath: path.join(CERTS, certName + '.pem'),
      keyPath: path.join(CERTS, certName + '.key'),
    }];
  }
  return launch(options);
}

async function certificateButton(page) {
  await page.goto(BASE + '/login');
  check(await page.isVisible('#login-certificate'), 'the login page offers the certificate button');
  await Promise.all([page.waitForNavigation(), page.click('#login-certificate')]);
}

(async () => {
  fs.mkdirSync(ART, { recursive: true });
  try {
    // The reader's e-CPF.
    let c = await newContext('leitor');
    await certificateButton(c.page);
    check(new URL(c.page.url()).pathname === '/search', 'the e-CPF lands on the search page');
    check((await c.page.textContent('#whoami')) === 'leitor', 'the e-CPF signs in its holder (CPF -> leitor)');
    await c.page.screenshot({ path: path.join(ART, 'cert-01-signed-in.png'), fullPage: true });
    await close(c);

    // A revoked certificate: refused, with the reason.
    c = await newContext('revoked');
    await certificateButton(c.page);
    const alert = await c.page.textContent('.error');
    check(/revogado/.test(alert || ''), `a revoked certificate is refused with the reason ("${alert}")`);
    check((await c.page.$('#whoami')) === null, 'and nobody is signed in');
    await c.page.screenshot({ path: path.join(ART, 'cert-02-revoked.png'), fullPage: true });
    await close(c);

    // No certificate: the password form still works on the same port.
    c = await newContext(null);
    await c.page.goto(BASE + '/login');
    await c.page.fill('#user', 'outro');
    await c.page.fill('#password', PW);
    await Promise.all([c.page.waitForNavigation(), c.page.click('main form[action="/login"] button[type=submit]')]);
    check((await c.page.textContent('#whoami')) === 'outro', 'without a certificate, a password signs in over TLS');
    await close(c);
  } catch (e) {
    state.failures++;
    console.log('not ok - ' + (e.stack || e));
  }
  console.log(state.failures === 0 ? 'PASS: all certificate checks' : `FAIL: ${state.failures} certificate check(s) failed`);
  process.exit(state.failures === 0 ? 0 : 1);
})();
