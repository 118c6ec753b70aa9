// Starts the real countersign binary on a free loopback port with a fresh
// data directory, and opens Chromium pages against it with JavaScript on or
// off. Every spec file uses `eachJsMode` so that it runs both ways.

import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, before, after } from 'node:test';
import { chromium } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '..', '..');
export const OUTPUT_DIR = resolve(import.meta.dirname, '..', 'test-output');
const BINARY = process.env.COUNTERSIGN_BIN ?? join(ROOT, 'target', 'debug', 'countersign');

const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

function freePort() {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });
}

async function waitUntilReady(base, child, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`countersign exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${base}/readyz`);
      if (res.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`countersign not ready after ${timeoutMs} ms`);
}

/** Starts a server; returns { base, log, stop }. */
export async function startServer() {
  const dataDir = await mkdtemp(join(tmpdir(), 'countersign-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = [];
  const child = spawn(BINARY, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    cwd: ROOT,
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => log.push(String(d)));
  child.stderr.on('data', (d) => log.push(String(d)));
  try {
    await waitUntilReady(base, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${error.message}\n${log.join('')}`);
  }
  return {
    base,
    log,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `body` inside a describe block once with JavaScript enabled and once
 * disabled. `body` receives a context whose `page()` opens a fresh page and
 * whose `base` is the server's address.
 */
export function eachJsMode(title, body) {
  for (const javaScriptEnabled of [true, false]) {
    describe(`${title} [js ${javaScriptEnabled ? 'on' : 'off'}]`, () => {
      const ctx = { javaScriptEnabled, base: '', server: null };
      let browser;
      let browserContext;
      before(async () => {
        await mkdir(OUTPUT_DIR, { recursive: true });
        ctx.server = await startServer();
        ctx.base = ctx.server.base;
        browser = await chromium.launch({
          executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
          args: CHROMIUM_ARGS,
        });
        browserContext = await browser.newContext({ javaScriptEnabled });
      });
      after(async () => {
        await browser?.close();
        await ctx.server?.stop();
      });
      ctx.page = async () => {
        const page = await browserContext.newPage();
        page.on('pageerror', (e) => { throw e; });
        return page;
      };
      ctx.screenshot = (page, name) =>
        page.screenshot({ path: join(OUTPUT_DIR, `${name}-js-${javaScriptEnabled ? 'on' : 'off'}.png`), fullPage: true });
      body(ctx);
    });
  }
}

/** Resolves once the page has hydrated (JavaScript on only). */
export async function hydrated(page) {
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 15_000 });
}
