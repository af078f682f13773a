// Time from navigation to a console ready to take calls, in headless Chromium (bench/console.sh).
// Ready = the agent's status is shown and the event stream is connected. Cold: a new browser
// context each time (nothing cached, cookie from POST /auth/session); warm: a reload of the same
// page (revalidated with ETags: 304s). The Voice SDK is the real pinned file; requests leaving the
// machine (Twilio's servers) are refused, so its registration fails fast and is not waited for.
// Prints one JSON object. Environment: CALLBRIDGE_URL, CALLBRIDGE_API_KEY, CHROMIUM, RUNS.
import { createRequire } from 'node:module';

// playwright-core from the browser tests' pinned install (tests/browser/node_modules).
const require = createRequire(new URL('../tests/browser/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const url = process.env.CALLBRIDGE_URL.replace(/\/$/, '');
const runs = Number(process.env.RUNS || 20);
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

async function ready(page) {
  await page.locator('[data-testid="agent-status"]:not(:empty)').waitFor({ timeout: 30_000 });
  await page.locator('[data-testid="connection"]', { hasText: 'connected' }).waitFor({ timeout: 30_000 });
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
});
const cold = [], warm = [];
let bytes = 0;
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext();
  await context.route('**/*', (r) => {
    const h = new URL(r.request().url()).hostname;
    return h === '127.0.0.1' || h === 'localhost' ? r.fallback() : r.abort('blockedbyclient');
  });
  const s = await context.request.post(url + '/auth/session', {
    data: { api_key: process.env.CALLBRIDGE_API_KEY },
  });
  if (s.status() !== 201) throw new Error(`POST /auth/session: ${s.status()}`);
  const page = await context.newPage();
  let b = 0;
  page.on('response', async (r) => {
    if (r.url().includes('/console/')) b += Number((await r.allHeaders())['content-length'] || 0);
  });
  let t = performance.now();
  await page.goto(url + '/console/');
  await ready(page);
  cold.push(performance.now() - t);
  if (i === 0) bytes = b;
  t = performance.now();
  await page.reload();
  await ready(page);
  warm.push(performance.now() - t);
  await context.close();
}
await browser.close();
const r = (x) => Math.round(x);
console.log(JSON.stringify({
  runs, console_bytes: bytes,
  cold_ms: { p50: r(pct(cold, 50)), p95: r(pct(cold, 95)), max: r(Math.max(...cold)) },
  warm_ms: { p50: r(pct(warm, 50)), p95: r(pct(warm, 95)), max: r(Math.max(...warm)) },
}));
