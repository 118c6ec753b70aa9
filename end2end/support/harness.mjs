// Starts the real countersign binary on a loopback port of its choosing with a fresh
// data directory, and opens Chromium pages against it with JavaScript on or
// off. Every spec file uses `eachJsMode` so that it runs both ways.

import { spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '..', '..');
export const OUTPUT_DIR = resolve(import.meta.dirname, '..', 'test-output');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const BINARY = process.env.COUNTERSIGN_BIN ?? join(ROOT, 'target', 'debug', 'countersign');

const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * Resolves with the address after `http://` on the first line of `log`
 * (the child's output so far, growing) that holds each announcement.
 * Port 0 and the server's own word rather than a port picked here: a port
 * free when picked may be taken by a parallel test before the server binds it.
 */
async function announced(log, child, announcements, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = log.join('');
    const found = announcements.map((a) => text.match(new RegExp(`${a} http://([0-9.:]+)`))?.[1]);
    if (found.every(Boolean)) return found;
    if (child.exitCode !== null) throw new Error(`countersign exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`countersign did not announce ${announcements.join(', ')} in ${timeoutMs} ms`);
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

/**
 * Starts a server with the demo users and data; returns { base, services,
 * users, log, stop }. `users` maps each demo name to the password the
 * server printed; `services` is the embedded AWS endpoint and the
 * credential its requests must be signed with.
 */
export async function startServer() {
  const dataDir = await mkdtemp(join(tmpdir(), 'countersign-e2e-'));
  const log = [];
  const credential = { accessKeyId: 'e2e', secretAccessKey: randomBytes(24).toString('base64url') };
  const args = [
    'serve', '--demo', '--listen', '127.0.0.1:0', '--data-dir', dataDir,
    '--services-listen', '127.0.0.1:0', '--access-key-id', credential.accessKeyId,
  ];
  const child = spawn(BINARY, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
      COUNTERSIGN_SERVICES_SECRET_ACCESS_KEY: credential.secretAccessKey,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => log.push(String(d)));
  child.stderr.on('data', (d) => log.push(String(d)));
  let base, services;
  try {
    const [dashboard, endpoint] = await announced(log, child, ['dashboard on', 'embedded services on']);
    base = `http://${dashboard}`;
    services = endpoint;
    await waitUntilReady(base, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${error.message}\n${log.join('')}`);
  }
  const users = {};
  for (const line of log.join('').split('\n')) {
    const m = line.match(/^\s+(sam|pat|bob|carol|dave)\s+\w+\s+(\S+)\s*$/);
    if (m) users[m[1]] = m[2];
  }
  return {
    base,
    services: { url: `http://${services}`, host: services, credential },
    users,
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
      const ctx = { javaScriptEnabled, base: '', server: null, bodies: [], cspViolations: [] };
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
        // The pages ran under their Content-Security-Policy without
        // tripping it (the hydration loader carries the nonce).
        assert.deepEqual(ctx.cspViolations, [], 'CSP violations in the browser');
        // No response any page received may carry a task token.
        const tokens = await taskTokens(ctx.server.services);
        assert.ok(tokens.length > 0, 'the run made task tokens');
        for (const { url, body } of ctx.bodies) {
          for (const token of tokens) {
            assert.ok(!body.includes(token), `a task token reached the browser in ${url}`);
          }
        }
        await browser?.close();
        await ctx.server?.stop();
      });
      const watch = (page) => {
        page.on('pageerror', (e) => { throw e; });
        // The browser's own errors (a panic in the wasm, say) go to the log.
        page.on('console', (m) => {
          if (m.type() !== 'error') return;
          console.error(`browser: ${m.text()}`);
          if (/Content Security Policy/i.test(m.text())) ctx.cspViolations.push(m.text());
        });
        page.on('response', async (response) => {
          const type = response.headers()['content-type'] ?? '';
          if (!/text|json|javascript/.test(type)) return;
          try {
            ctx.bodies.push({ url: response.url(), body: await response.text() });
          } catch { /* a redirect has no body */ }
        });
        return page;
      };
      ctx.page = async () => watch(await browserContext.newPage());
      /** A page in a browser of its own, signed in as a demo user. */
      ctx.signedIn = async (name) => {
        const own = await browser.newContext({ javaScriptEnabled });
        const page = watch(await own.newPage());
        await page.goto(ctx.base + '/sign-in');
        if (javaScriptEnabled) await hydrated(page);
        await page.fill('#name', name);
        await page.fill('#password', ctx.server.users[name]);
        await Promise.all([
          page.waitForURL((u) => new URL(u).pathname !== '/sign-in', { timeout: 15_000 }),
          page.click('#sign-in'),
        ]);
        return page;
      };
      ctx.screenshot = (page, name) =>
        page.screenshot({ path: join(OUTPUT_DIR, `${name}-js-${javaScriptEnabled ? 'on' : 'off'}.png`), fullPage: true });
      body(ctx);
    });
  }
}

/** Reloads until `check` passes (workflows move on in the background). */
export async function eventually(page, check, tries = 60) {
  for (let i = 0; ; i++) {
    try {
      return await check();
    } catch (error) {
      if (i >= tries) throw error;
      await new Promise((r) => setTimeout(r, 250));
      await page.reload();
    }
  }
}

/** Resolves once the page has hydrated (JavaScript on only). */
export async function hydrated(page) {
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 15_000 });
}

/**
 * Every task token in the embedded DynamoDB: the rows the workflows wrote
 * (pending actions, signature requests) and the decisions' claims.
 */
export async function taskTokens(services) {
  const tokens = [];
  for (const table of ['orderProcessingActions', 'signatureRequests', 'countersignDecisions', 'countersignTasks']) {
    let start;
    do {
      const body = JSON.stringify({ TableName: table, ExclusiveStartKey: start });
      const res = await fetch(services.url, {
        method: 'POST',
        headers: signedHeaders(services, 'DynamoDB_20120810.Scan', body),
        body,
      });
      const page = await res.json();
      if (!res.ok) throw new Error(`scan ${table}: ${JSON.stringify(page)}`);
      for (const item of page.Items ?? []) {
        if (item.taskToken?.S) tokens.push(item.taskToken.S);
        if (item.token?.S) tokens.push(item.token.S);
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return tokens;
}

/**
 * Headers for a DynamoDB JSON request to the embedded services, signed
 * with AWS Signature Version 4 (they answer nothing unsigned).
 */
function signedHeaders({ host, credential }, target, body) {
  const sha256 = (text) => createHash('sha256').update(text).digest('hex');
  const hmac = (key, text) => createHmac('sha256', key).update(text).digest();
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers = { 'content-type': 'application/x-amz-json-1.0', host, 'x-amz-date': amzDate, 'x-amz-target': target };
  const names = Object.keys(headers).sort();
  const canonical = ['POST', '/', '', ...names.map((n) => `${n}:${headers[n]}`), '', names.join(';'), sha256(body)].join('\n');
  const scope = `${day}/us-east-1/dynamodb/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${credential.secretAccessKey}`, day);
  for (const part of ['us-east-1', 'dynamodb', 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  const { host: _, ...sent } = headers;
  return {
    ...sent,
    authorization: `AWS4-HMAC-SHA256 Credential=${credential.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}

/** No serious or critical axe violation on the page as it is now. */
export async function axeClean(page, what) {
  // Evaluated by the test driver, not injected as a script tag: the page's
  // CSP (rightly) refuses inline scripts without its nonce.
  await page.evaluate(readFileSync(AXE, 'utf8'));
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${what}: ${JSON.stringify(bad, null, 1)}`);
}
