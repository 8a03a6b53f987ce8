// Browser end-to-end test of the web client (docs/web-client.md).
// Starts the real parleyd with persistence, auth, rooms, receipts and the
// websocket bridge serving the built client, then drives two users in two
// isolated headless Chromium contexts: both register, Alice opens a direct
// chat by Bob's number, Bob sees it appear with an unread badge, they talk,
// Alice sees Bob typing and the read tick once Bob has the chat open, and a
// reload resumes Alice's session from localStorage. Screenshots go to
// $PARLEY_ARTIFACTS_DIR/web-e2e.png (Alice), web-e2e-bob.png, web-e2e-login.png.
//
// Environment (set by tests/web/CMakeLists.txt): PARLEYD, PARLEY_WEB_DIR,
// PARLEY_WEB_NODE_MODULES, PARLEY_ARTIFACTS_DIR.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through ctest)`);
  return v;
};
const parleyd = env('PARLEYD');
const webDir = env('PARLEY_WEB_DIR');
const artifacts = env('PARLEY_ARTIFACTS_DIR');
const { chromium } = createRequire(path.join(env('PARLEY_WEB_NODE_MODULES'), 'noop.js'))('playwright-core');

const WAIT_MS = 15000;  // any single UI expectation
const TOTAL_MS = 180000; // the whole test, as a last resort

const ALICE = { phone: '+15550100001', name: 'Alice Example', password: 'correct horse 1' };
const BOB = { phone: '+1 555 010 0002', normalized: '+15550100002', name: 'Bob Builder', password: 'battery staple 2' };

let passed = 0;
let running = null;  // the parleyd child, for the watchdog
async function step(name, fn) {
  const t0 = Date.now();
  await fn();
  passed++;
  console.log(`ok ${passed} - ${name} (${Date.now() - t0} ms)`);
}

// ---------------------------------------------------------------- server ---

function startServer(dir) {
  const config = path.join(dir, 'parley.yaml');
  writeFileSync(config, `
data_dir: ${JSON.stringify(path.join(dir, 'data'))}
listeners:
  - {name: main, address: 127.0.0.1, port: 0, tls: off}
logging: {level: info, format: text}
plugins:
  persistence: {config: {durability: async}}
  auth: {config: {argon2_memory_kib: 1024, argon2_iterations: 1}}
  rooms: {}
  receipts: {}
  websocket:
    config:
      address: 127.0.0.1
      port: 0
      path: /ws
      static_dir: ${JSON.stringify(webDir)}
`);
  const child = spawn(parleyd, ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const server = { child, log: '', port: 0, exited: null };
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('parleyd did not log its websocket listener in time')), 20000);
    const onData = (chunk) => {
      server.log += chunk.toString();
      const m = /listening name=websocket address=\S+ port=(\d+)/.exec(server.log);
      if (m && !server.port) {
        server.port = Number(m[1]);
        clearTimeout(timer);
        resolve(server);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      server.exited = { code, signal };
      clearTimeout(timer);
      reject(new Error(`parleyd exited early (code ${code}, signal ${signal})`));
    });
  });
  return { server, ready };
}

async function stopServer(server) {
  if (!server || server.exited) return server?.exited?.code ?? null;
  const done = new Promise((resolve) => server.child.once('exit', (code) => resolve(code)));
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 10000);
  const code = await done;
  clearTimeout(timer);
  return code;
}

// -------------------------------------------------------------- browser ---

async function register(page, user) {
  await page.locator('#auth-view').waitFor({ state: 'visible', timeout: WAIT_MS });
  await page.click('#auth-switch');
  await page.fill('#phone', user.phone);
  await page.fill('#display-name', user.name);
  await page.fill('#password', user.password);
  await page.click('#auth-submit');
  await page.locator('#main-view').waitFor({ state: 'visible', timeout: WAIT_MS });
  await page.locator('#me-name', { hasText: user.name }).waitFor({ timeout: WAIT_MS });
  await page.locator('#conn-state.online').waitFor({ timeout: WAIT_MS });
}

async function openChatByPhone(page, phone) {
  await page.click('#new-chat');
  await page.fill('#chat-phone', phone);
  await page.click('#chat-submit');
  await page.locator('#chat-dialog').waitFor({ state: 'hidden', timeout: WAIT_MS });
  await page.locator('#chat-view').waitFor({ state: 'visible', timeout: WAIT_MS });
}

async function send(page, text) {
  await page.fill('#message-input', text);
  await page.press('#message-input', 'Enter');
}

function lastMine(page) {
  return page.locator('#messages .msg.mine').last();
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-web-e2e-'));
  mkdirSync(artifacts, { recursive: true });
  const { server, ready } = startServer(dir);
  running = server;
  let browser = null;
  let ok = false;
  const pageLogs = [];
  const pages = [];
  try {
    await ready;
    const base = `http://127.0.0.1:${server.port}`;

    await step('the bridge serves /healthz and the client at /', async () => {
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      const index = await fetch(`${base}/`);
      assert.equal(index.status, 200);
      assert.match(await index.text(), /<title>Parley<\/title>/);
      const js = await fetch(`${base}/app.js`);
      assert.equal(js.status, 200);
      assert.match(js.headers.get('content-type') ?? '', /javascript/);
    });

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // Two contexts: two independent browsers as far as storage goes.
    const newPage = async (who) => {
      const ctx = await browser.newContext({ viewport: { width: 1100, height: 720 }, deviceScaleFactor: 1 });
      const page = await ctx.newPage();
      page.on('console', (m) => pageLogs.push(`[${who} console.${m.type()}] ${m.text()}`));
      page.on('pageerror', (e) => pageLogs.push(`[${who} pageerror] ${e.message}`));
      await page.goto(`${base}/`);
      pages.push([who, page]);
      return page;
    };
    const alice = await newPage('alice');
    const bob = await newPage('bob');

    await step('both users register with a phone number', async () => {
      await register(alice, ALICE);
      await register(bob, BOB);
      assert.equal(await bob.textContent('#me-phone'), BOB.normalized);
    });

    let roomId = '';
    await step('Alice opens a direct chat by Bob\'s number', async () => {
      await openChatByPhone(alice, BOB.phone);
      assert.equal(await alice.textContent('#chat-title'), BOB.name);
      roomId = await alice.locator('#room-list .room.active').getAttribute('data-room-id');
      assert.match(roomId, /^[0-9a-f-]{36}$/);
    });

    await step('Bob sees the new room and an unread badge for Alice\'s first message', async () => {
      await bob.locator(`#room-list .room[data-room-id="${roomId}"]`).waitFor({ timeout: WAIT_MS });
      await send(alice, 'Hi Bob! Welcome to Parley :)');
      await alice.locator('#messages .msg.mine[data-tick="sent"], #messages .msg.mine[data-tick="delivered"]')
        .first().waitFor({ timeout: WAIT_MS });
      const badge = bob.locator(`#room-list .room[data-room-id="${roomId}"] .badge`);
      await badge.waitFor({ timeout: WAIT_MS });
      assert.equal((await badge.textContent()).trim(), '1');
      // Bob's page received it (mark_delivered): two grey ticks for Alice.
      await alice.locator('#messages .msg.mine[data-tick="delivered"]').first().waitFor({ timeout: WAIT_MS });
    });

    await step('Bob opens the chat (by Alice\'s number): same room, message read, badge gone', async () => {
      await openChatByPhone(bob, ALICE.phone);
      assert.equal(await bob.locator('#room-list .room.active').getAttribute('data-room-id'), roomId);
      assert.equal(await bob.textContent('#chat-title'), ALICE.name);
      await bob.locator('#messages .msg.theirs', { hasText: 'Hi Bob!' }).waitFor({ timeout: WAIT_MS });
      await bob.locator(`#room-list .room[data-room-id="${roomId}"] .badge`)
        .waitFor({ state: 'detached', timeout: WAIT_MS });
      await alice.locator('#messages .msg.mine[data-tick="read"]').first().waitFor({ timeout: WAIT_MS });
    });

    await step('Alice sees Bob typing, then his reply live', async () => {
      await bob.fill('#message-input', 'Hello Al');
      await bob.type('#message-input', 'i');  // an input event, as a person types
      await alice.locator('#chat-subtitle.typing', { hasText: 'typing' }).waitFor({ timeout: WAIT_MS });
      await bob.fill('#message-input', 'Hello Alice! Great to be here.');
      await bob.press('#message-input', 'Enter');
      await alice.locator('#messages .msg.theirs', { hasText: 'Hello Alice!' }).waitFor({ timeout: WAIT_MS });
      await alice.locator('#chat-subtitle:not(.typing)').waitFor({ timeout: WAIT_MS });
      await lastMine(bob).and(bob.locator('[data-tick="read"]')).waitFor({ timeout: WAIT_MS });
    });

    await step('with the chat open on Bob\'s page, Alice\'s next message shows the read tick', async () => {
      await send(alice, 'Shall we meet at 6 for coffee?');
      const last = lastMine(alice);
      await last.locator('.text', { hasText: 'coffee' }).waitFor({ timeout: WAIT_MS });
      await last.and(alice.locator('[data-tick="read"]')).waitFor({ timeout: WAIT_MS });
      await bob.locator('#messages .msg.theirs', { hasText: 'coffee' }).waitFor({ timeout: WAIT_MS });
      await send(bob, 'Perfect, see you there ☕');
      await alice.locator('#messages .msg.theirs', { hasText: 'see you there' }).waitFor({ timeout: WAIT_MS });
      // Let the receipt for Bob's last message arrive so the picture is settled.
      await lastMine(bob).and(bob.locator('[data-tick="read"]')).waitFor({ timeout: WAIT_MS });
    });

    await step('Alice creates a group; Bob sees it with an unread badge while in the direct chat', async () => {
      await alice.click('#new-group');
      await alice.fill('#group-name', 'Weekend plans');
      await alice.fill('#group-phones', BOB.phone);
      await alice.click('#group-submit');
      await alice.locator('#group-dialog').waitFor({ state: 'hidden', timeout: WAIT_MS });
      await alice.locator('#chat-title', { hasText: 'Weekend plans' }).waitFor({ timeout: WAIT_MS });
      await send(alice, 'Who is in for a hike on Saturday?');
      await lastMine(alice).and(alice.locator('[data-tick="delivered"], [data-tick="read"]')).waitFor({ timeout: WAIT_MS });
      const group = bob.locator('#room-list .room', { hasText: 'Weekend plans' });
      await group.locator('.badge', { hasText: '1' }).waitFor({ timeout: WAIT_MS });
      await group.locator('.room-preview', { hasText: 'hike' }).waitFor({ timeout: WAIT_MS });
      // Back to the direct chat for the pictures.
      await alice.locator(`#room-list .room[data-room-id="${roomId}"]`).click();
      await alice.locator('#messages .msg.theirs', { hasText: 'see you there' }).waitFor({ timeout: WAIT_MS });
      assert.equal(await alice.locator('#room-list .badge').count(), 0);
    });

    await step('screenshots saved', async () => {
      await alice.screenshot({ path: path.join(artifacts, 'web-e2e.png') });
      await bob.screenshot({ path: path.join(artifacts, 'web-e2e-bob.png') });
      const visitor = await newPage('visitor');
      await visitor.locator('#auth-view').waitFor({ state: 'visible', timeout: WAIT_MS });
      await visitor.screenshot({ path: path.join(artifacts, 'web-e2e-login.png') });
      await visitor.context().close();
    });

    await step('a reload resumes the session from localStorage (auth.resume)', async () => {
      await alice.reload();
      await alice.locator('#main-view').waitFor({ state: 'visible', timeout: WAIT_MS });
      assert.equal(await alice.locator('#auth-view').isVisible(), false);
      await alice.locator(`#room-list .room[data-room-id="${roomId}"]`).click();
      await alice.locator('#messages .msg.theirs', { hasText: 'see you there' }).waitFor({ timeout: WAIT_MS });
      assert.equal(await alice.locator('#messages .msg').count(), 4);
    });

    const errors = pageLogs.filter((l) => l.includes('pageerror'));
    assert.deepEqual(errors, [], 'uncaught errors in the pages');
    ok = true;
  } finally {
    if (!ok) {
      for (const [who, page] of pages) {
        await page.screenshot({ path: path.join(artifacts, `web-e2e-failure-${who}.png`) }).catch(() => undefined);
      }
    }
    if (browser) await browser.close().catch(() => undefined);
    const code = await stopServer(server);
    if (!ok) {
      console.error(`----- page console -----\n${pageLogs.join('\n')}`);
      console.error(`----- parleyd log -----\n${server.log}----- end of parleyd log -----`);
    } else if (code !== 0) {
      console.error(`----- parleyd log -----\n${server.log}----- end of parleyd log -----`);
      throw new Error(`parleyd exited with ${code} after SIGTERM`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${passed} passed, 0 failed`);
}

const watchdog = setTimeout(() => {
  console.error(`web e2e: still running after ${TOTAL_MS} ms, giving up`);
  if (running && !running.exited) running.child.kill('SIGKILL');
  process.exit(1);
}, TOTAL_MS);
watchdog.unref();

main().then(() => process.exit(0), (e) => {
  console.error(`not ok - ${e.stack || e}`);
  console.log(`${passed} passed, 1 failed`);
  process.exit(1);
});
