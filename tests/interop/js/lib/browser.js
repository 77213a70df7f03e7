// A real headless Chromium for the tests that involve a web page (Debian's /usr/bin/chromium
// driven by puppeteer-core, pinned in tests/package.json; no browser is ever downloaded).
//   withBrowser(fn): starts one with a throw-away profile, runs fn(browser), always closes it.
//   watch(page, ignore): collects what the page reports as going wrong (console errors, page
//     errors, failed requests, HTTP answers >= 400); ignore(url) excludes a request that is
//     expected to be cut (an event stream closed with the page).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { deadline } = require('./harness');

const puppeteer = require(path.join(__dirname, '..', '..', '..', 'node_modules', 'puppeteer-core'));

const CHROMIUM = '/usr/bin/chromium';

async function withBrowser(fn) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (scripts/deps.sh installs chromium)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wampd-chromium-'));
  const browser = await deadline(puppeteer.launch({
    executablePath: CHROMIUM,
    headless: false, // the flag is passed below as it is, not puppeteer's variant
    ignoreDefaultArgs: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage', `--user-data-dir=${profile}`, '--remote-debugging-pipe',
      'about:blank'],
    pipe: true,
  }), 60000, 'chromium to start');
  try {
    return await fn(browser);
  } finally {
    await deadline(browser.close(), 15000, 'chromium to close').catch(() => browser.process()?.kill('SIGKILL'));
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

function watch(page, ignore = () => false) {
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    if (!ignore(r.url())) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  return problems;
}

module.exports = { withBrowser, watch };
