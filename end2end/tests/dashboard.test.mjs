// The dashboard's whole jobs, each person in a browser of their own, with
// JavaScript on and off: an order from a customer to SENT, a rejection,
// bob signing and declining, an expired request, two staff racing for one
// step, bulk decisions, live updates, keys, the events panel, and an axe
// scan of every page (light and dark). Screenshots go to test-output/.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { axeClean, eachJsMode, eventually, hydrated } from '../support/harness.mjs';


/** Waits for `check` without reloading (live updates, client rendering). */
async function until(check, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Clicks and, without JavaScript, waits for the form post's page. */
async function submit(ctx, page, locator) {
  if (ctx.javaScriptEnabled) {
    await locator.click();
  } else {
    await Promise.all([page.waitForNavigation({ timeout: 15_000 }), locator.click()]);
  }
}

/** Goes to `path` and waits for hydration when JavaScript is on. */
async function open(ctx, page, path) {
  await page.goto(ctx.base + path);
  if (ctx.javaScriptEnabled) await hydrated(page);
}

/** Carol places an order for `item`; returns its id. */
async function placeOrder(ctx, carol, item) {
  await open(ctx, carol, '/orders');
  await carol.fill('#items', item);
  await Promise.all([
    carol.waitForURL(/\/orders\/[0-9a-f-]{36}$/, { timeout: 15_000 }),
    carol.click('#place-order'),
  ]);
  return new URL(carol.url()).pathname.split('/').pop();
}

/** The inbox row of order `id`, found by searching for it. */
async function inboxRow(ctx, staff, id) {
  const row = staff.locator(`#inbox tr[data-order="${id}"]`);
  await eventually(staff, async () => {
    if (!staff.url().includes(`q=${id.slice(0, 8)}`)) await open(ctx, staff, `/inbox?q=${id.slice(0, 8)}`);
    await row.waitFor({ timeout: 2_000 });
  });
  if (ctx.javaScriptEnabled) await hydrated(staff);
  return row;
}

/** Sam sends a document for signing; returns its id. */
async function askForSignatures(ctx, sam, title, signers, timeout, unit) {
  await open(ctx, sam, '/inbox');
  await sam.click('.ask summary');
  await sam.fill('#ask-title', title);
  await sam.fill('#ask-signers', signers);
  await sam.fill('#ask-timeout', String(timeout));
  await sam.selectOption('#ask-unit', unit);
  await Promise.all([
    sam.waitForURL(/\/signing\/[0-9a-f-]{36}$/, { timeout: 15_000 }),
    sam.click('#ask-send'),
  ]);
  return new URL(sam.url()).pathname.split('/').pop();
}

/** A valid one-page PDF showing `text`, so the browser's viewer draws it. */
function onePagePdf(text) {
  const escaped = text.replace(/[\\()]/g, (c) => `\\${c}`);
  const stream = `BT /F1 14 Tf 56 760 Td (${escaped}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let body = '%PDF-1.4\n';
  const offsets = [];
  objects.forEach((o, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const at of offsets) body += `${String(at).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

eachJsMode('dashboard', (ctx) => {
  it('serves pages with the security headers and hydrates under their CSP', async () => {
    const page = await ctx.page();
    const response = await page.goto(ctx.base + '/sign-in');
    const headers = response.headers();
    assert.equal(headers['x-frame-options'], 'DENY');
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.equal(headers['referrer-policy'], 'same-origin');
    const csp = headers['content-security-policy'] ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    const nonce = csp.match(/'nonce-([^']+)'/)?.[1];
    assert.ok(nonce, `a script nonce in ${csp}`);
    // Every inline script on the page carries the response's nonce (the
    // browser hides a nonce attribute's value from the DOM, so read it
    // from the property).
    const nonces = await page.$$eval('script', (scripts) =>
      scripts.filter((s) => !s.src).map((s) => s.nonce));
    assert.ok(nonces.length > 0, 'the page has its hydration script');
    for (const n of nonces) assert.equal(n, nonce);
    if (ctx.javaScriptEnabled) await hydrated(page);
    await page.close();
  });

  it('takes an order from the customer to SENT, with the timeline', async () => {
    const carol = await ctx.signedIn('carol');
    const sam = await ctx.signedIn('sam');
    const item = `Kettle ${ctx.javaScriptEnabled ? 'on' : 'off'}`;
    const id = await placeOrder(ctx, carol, item);

    // First step from the order's own page…
    await eventually(sam, async () => {
      await open(ctx, sam, `/orders/${id}`);
      await sam.locator('#order-actions button.advance').waitFor({ timeout: 2_000 });
    });
    assert.match(await sam.locator('main').innerText(), new RegExp(item));
    await submit(ctx, sam, sam.locator('#order-actions button.advance'));
    await until(async () => assert.match(await sam.locator('.toast.ok').innerText(), /advanced by sam/));
    // …the second from the inbox row.
    const row = await inboxRow(ctx, sam, id);
    await eventually(sam, async () => assert.match(await row.innerText({ timeout: 2_000 }), /PROCESSING/));
    assert.match(await row.innerText(), new RegExp(item));
    await ctx.screenshot(sam, 'inbox-row');
    await submit(ctx, sam, row.locator('button.advance'));
    await until(async () => assert.match(await sam.locator('.toast.ok').innerText(), /advanced by sam/));

    await eventually(carol, async () => {
      await open(ctx, carol, `/orders/${id}`);
      assert.match(await carol.locator('.summary').innerText({ timeout: 2_000 }), /SENT/);
    });
    const timeline = await carol.locator('#history').innerText();
    for (const step of ['PENDING', 'PROCESSING', 'SENT']) assert.match(timeline, new RegExp(step));
    assert.match(timeline, /advance by sam/);
    assert.match(await carol.locator('#notifications').innerText(), /processed/i);
    // Customers do not see the workflow's events; staff do.
    assert.equal(await carol.locator('#events').count(), 0);
    await ctx.screenshot(carol, 'order-sent');
  });

  it('sends one decision for a double click, the buttons disabled while it runs', async () => {
    const carol = await ctx.signedIn('carol');
    const sam = await ctx.signedIn('sam');
    const id = await placeOrder(ctx, carol, `Teapot ${ctx.javaScriptEnabled ? 'on' : 'off'}`);
    await eventually(sam, async () => {
      await open(ctx, sam, `/orders/${id}`);
      await sam.locator('#order-actions button.advance').waitFor({ timeout: 2_000 });
    });
    const decisions = [];
    sam.on('request', (r) => {
      if (r.method() === 'POST' && r.url().includes('/api/orders/decide')) decisions.push(r.url());
    });
    const advance = sam.locator('#order-actions button.advance');
    if (ctx.javaScriptEnabled) {
      await advance.dblclick();
      await until(async () => assert.match(await sam.locator('.toast.ok').innerText(), /advanced by sam/));
      assert.equal(decisions.length, 1, `one request for a double click: ${decisions}`);
      assert.equal(await sam.locator('.toast.err').count(), 0, 'no "already decided" for a second click');
    } else {
      // Without JavaScript the browser posts the form; the server's ledger
      // makes a second post "already decided", never a second decision.
      await submit(ctx, sam, advance);
      assert.equal(decisions.length, 1);
    }
    await eventually(carol, async () => {
      await open(ctx, carol, `/orders/${id}`);
      assert.match(await carol.locator('.summary').innerText({ timeout: 2_000 }), /PROCESSING/);
    });
  });

  it('rejects with a reason, and the customer sees ERROR and why', async () => {
    const carol = await ctx.signedIn('carol');
    const sam = await ctx.signedIn('sam');
    const id = await placeOrder(ctx, carol, 'Umbrella');
    const row = await inboxRow(ctx, sam, id);
    // A reason is required: an empty one is refused by the browser form.
    await row.locator('input.reason').fill('Out of stock until spring');
    await submit(ctx, sam, row.locator('button.reject'));
    await until(async () => assert.match(await sam.locator('.toast.ok').innerText(), /rejected by sam/));
    await eventually(carol, async () => {
      await open(ctx, carol, `/orders/${id}`);
      assert.match(await carol.locator('.summary').innerText({ timeout: 2_000 }), /ERROR/);
    });
    assert.match(await carol.locator('#order-error').innerText(), /Out of stock until spring/);
    assert.match(await carol.locator('#history').innerText(), /reject by sam/);
    await ctx.screenshot(carol, 'order-error');
  });

  it('lets bob sign one document and decline another, alice signing by herself', async () => {
    const sam = await ctx.signedIn('sam');
    const bob = await ctx.signedIn('bob');
    const mode = ctx.javaScriptEnabled ? 'on' : 'off';
    const signIt = await askForSignatures(ctx, sam, `Lease ${mode}`, 'alice (auto)\nbob', 2, 'days');
    const declineIt = await askForSignatures(ctx, sam, `Loan ${mode}`, 'alice (auto)\nbob', 2, 'days');

    const card = (doc) => bob.locator(`#desk li[data-document="${doc}"]`);
    await eventually(bob, async () => {
      if (new URL(bob.url()).pathname !== '/desk') await open(ctx, bob, '/desk');
      await card(signIt).waitFor({ timeout: 2_000 });
      await card(declineIt).waitFor({ timeout: 2_000 });
      assert.match(await card(signIt).innerText(), /alice: signed .*automatically/);
    });
    if (ctx.javaScriptEnabled) await hydrated(bob);
    assert.match(await card(signIt).innerText(), /bob: waiting, \d+ days? left|bob: waiting, \d+ h left/);
    await ctx.screenshot(bob, 'desk-cards');
    await submit(ctx, bob, card(signIt).locator('button.advance'));
    await until(async () => assert.match(await bob.locator('.toast.ok').innerText(), /signed by bob/));
    // The desk refreshes (live) once the signed request leaves it; a reason
    // typed while it re-renders could be lost with the old form.
    await until(async () => assert.equal(await card(signIt).count(), 0));
    await card(declineIt).locator('input.reason').fill('Wrong amount');
    await submit(ctx, bob, card(declineIt).locator('button.reject'));
    await until(async () => assert.match(await bob.locator('.toast.ok').innerText(), /declined by bob/));
    await until(async () => assert.equal(await card(signIt).count() + await card(declineIt).count(), 0));

    await eventually(bob, async () => {
      await open(ctx, bob, `/signing/${signIt}`);
      assert.match(await bob.locator('.summary').innerText({ timeout: 2_000 }), /SIGNED/);
    });
    assert.match(await bob.locator('#signers').innerText(), /bob: signed/);
    await ctx.screenshot(bob, 'document-signed');
    await eventually(sam, async () => {
      await open(ctx, sam, `/signing/${declineIt}`);
      assert.match(await sam.locator('.summary').innerText({ timeout: 2_000 }), /DECLINED/);
    });
    assert.match(await sam.locator('#history').innerText(), /Wrong amount/);
  });

  it('shows bob the contract and its terms inline; he signs, and the receipt names their hashes', async () => {
    const sam = await ctx.signedIn('sam');
    const bob = await ctx.signedIn('bob');
    const mode = ctx.javaScriptEnabled ? 'on' : 'off';
    const doc = await askForSignatures(ctx, sam, `Supply contract ${mode}`, 'alice (auto)\nbob', 2, 'days');
    const pdf = onePagePdf(`Supply contract (${mode}): the supplier delivers 40 lamps by 1 March.`);
    const terms = Buffer.from(`# Terms (${mode})\n\nPayment within **30 days**.\n\n<script>alert(1)</script>\n`);
    const notes = Buffer.from('Delivery to the back door.\n');
    await open(ctx, sam, `/signing/${doc}`);
    await sam.locator('#files input[type=file]').setInputFiles([
      { name: 'contract.pdf', mimeType: 'application/pdf', buffer: pdf },
      { name: 'terms.md', mimeType: 'text/markdown', buffer: terms },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: notes },
    ]);
    // A plain multipart form in both modes: the server comes back here.
    await Promise.all([
      sam.waitForURL(new RegExp(`/signing/${doc}#files$`), { timeout: 15_000 }),
      sam.click('#files form.attach button[type=submit]'),
    ]);
    await sam.locator('#files article[data-file="contract.pdf"]').waitFor();

    await open(ctx, bob, `/signing/${doc}`);
    const files = bob.locator('#files');
    // The PDF in the browser's own viewer, framed by our page; the text as
    // text; the Markdown rendered, its script only text.
    const frame = files.locator('article[data-file="contract.pdf"] iframe.pdf');
    assert.equal(await frame.getAttribute('src'), `/files/document/${doc}/contract.pdf`);
    const served = await bob.request.get(`${ctx.base}/files/document/${doc}/contract.pdf`);
    assert.equal(served.status(), 200);
    assert.equal(served.headers()['content-type'], 'application/pdf');
    assert.deepEqual(Buffer.from(await served.body()), pdf);
    assert.match(await files.locator('article[data-file="notes.txt"] pre.text').innerText(), /Delivery to the back door/);
    const markdown = files.locator('article[data-file="terms.md"] .markdown');
    assert.equal(await markdown.locator('strong').innerText(), '30 days');
    assert.equal(await markdown.locator('script').count(), 0);
    const pdfHash = await files.locator('article[data-file="contract.pdf"]').getAttribute('data-sha256');
    assert.match(pdfHash, /^[0-9a-f]{64}$/);
    await ctx.screenshot(bob, 'document-files');
    // axe runs in the page, so only where scripts run.
    if (ctx.javaScriptEnabled) await axeClean(bob, 'the document page with files');

    // He signs on the same page. With the keyboard: headless Chromium
    // hands a mouse click below a PDF frame to the PDF viewer's process.
    const sign = bob.locator('.card button.advance');
    await sign.focus();
    if (ctx.javaScriptEnabled) {
      await bob.keyboard.press('Enter');
    } else {
      await Promise.all([bob.waitForNavigation({ timeout: 15_000 }), bob.keyboard.press('Enter')]);
    }
    await until(async () => assert.match(await bob.locator('.toast.ok').innerText(), /signed by bob/));
    await eventually(bob, async () => {
      await open(ctx, bob, `/signing/${doc}`);
      assert.match(await bob.locator('#history').innerText({ timeout: 2_000 }), /sign by bob/);
    });
    // The history links the receipt (followed by address: the same PDF
    // frame sits above it).
    const receiptHref = await bob.locator('#history a.receipt-link').first().getAttribute('href');
    assert.match(receiptHref, /^\/receipts\/[^/]+$/);
    await open(ctx, bob, receiptHref);
    await bob.locator('#receipt-files').waitFor();
    const listed = await bob.locator('#receipt-files').innerText();
    assert.match(listed, /contract\.pdf/);
    assert.ok(listed.includes(pdfHash), `the receipt names ${pdfHash}: ${listed}`);
    assert.match(await bob.locator('#receipt-facts').innerText(), /bob/);
    await ctx.screenshot(bob, 'receipt');
    if (ctx.javaScriptEnabled) await axeClean(bob, 'the receipt page');
  });

  it('lets staff download the decision history from the audit page', async () => {
    const sam = await ctx.signedIn('sam');
    await open(ctx, sam, '/audit');
    const form = sam.locator('#audit-export');
    await form.waitFor();
    await sam.selectOption('#audit-export select[name=kind]', 'sign-document');
    await sam.check('#audit-export input[name=format][value=jsonl]');
    await ctx.screenshot(sam, 'audit');
    if (ctx.javaScriptEnabled) await axeClean(sam, 'the audit page');
    const [download] = await Promise.all([
      sam.waitForEvent('download', { timeout: 15_000 }),
      sam.click('#audit-export button[type=submit]'),
    ]);
    const path = await download.path();
    const lines = readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.ok(lines.length > 0, 'signatures were decided in this run');
    assert.ok(lines.every((l) => l.kind === 'sign-document'), JSON.stringify(lines[0]));
    assert.ok(lines.every((l) => typeof l.receipt === 'string' && l.receipt.length > 0));
    // Not for a customer.
    const carol = await ctx.signedIn('carol');
    await open(ctx, carol, '/audit');
    assert.match(await carol.locator('.error').innerText(), /may not/);
  });

  it('tells bob a request expired, and it leaves his desk', async () => {
    const sam = await ctx.signedIn('sam');
    const bob = await ctx.signedIn('bob');
    const doc = await askForSignatures(ctx, sam, 'Quick waiver', 'bob', 4, 'seconds');
    const card = bob.locator(`#desk li[data-document="${doc}"]`);
    await eventually(bob, async () => {
      if (new URL(bob.url()).pathname !== '/desk') await open(ctx, bob, '/desk');
      await card.waitFor({ timeout: 2_000 });
    });
    if (ctx.javaScriptEnabled) await hydrated(bob);
    // Let it run out, then try to sign what is still on screen.
    await eventually(sam, async () => {
      await open(ctx, sam, `/signing/${doc}`);
      assert.match(await sam.locator('.summary').innerText({ timeout: 2_000 }), /TIMED_OUT/);
    });
    if (await card.count() === 0) {
      // Live updates removed it already; bring back a page from before.
      await bob.goBack().catch(() => {});
    }
    if (await card.count() > 0) {
      await submit(ctx, bob, card.locator('button.advance'));
      await until(async () => assert.match(await bob.locator('.toast.err').innerText(), /expired/));
      await ctx.screenshot(bob, 'desk-expired');
    }
    await eventually(bob, async () => assert.equal(await card.count(), 0));
    await open(ctx, sam, `/signing/${doc}`);
    assert.match(await sam.locator('#signers').innerText(), /EXPIRED/);
  });

  it('lets one of two staff decide a step and tells the other who did', async () => {
    const carol = await ctx.signedIn('carol');
    const sam = await ctx.signedIn('sam');
    const pat = await ctx.signedIn('pat');
    const id = await placeOrder(ctx, carol, 'Teacup');
    const samRow = await inboxRow(ctx, sam, id);
    const patRow = await inboxRow(ctx, pat, id);
    // Both press at once, each on the page they loaded.
    await Promise.all([
      submit(ctx, sam, samRow.locator('button.advance')),
      submit(ctx, pat, patRow.locator('button.advance')),
    ]);
    const toasts = [];
    for (const page of [sam, pat]) {
      await until(async () => {
        const text = await page.locator('.toast').first().innerText({ timeout: 1_000 });
        toasts.push(text);
      });
    }
    const won = toasts.filter((t) => /advanced by/.test(t));
    const told = toasts.filter((t) => /already decided by (sam|pat)/.test(t));
    assert.equal(won.length, 1, toasts.join(' | '));
    assert.equal(told.length, 1, toasts.join(' | '));
    // Exactly one decision in the order's history.
    await open(ctx, carol, `/orders/${id}`);
    const history = await carol.locator('#history').innerText();
    assert.equal(history.match(/advance by/g)?.length, 1, history);
  });

  it('decides ticked orders in bulk with a result for each', async () => {
    const carol = await ctx.signedIn('carol');
    const sam = await ctx.signedIn('sam');
    const pat = await ctx.signedIn('pat');
    const a = await placeOrder(ctx, carol, 'Bulk A');
    const b = await placeOrder(ctx, carol, 'Bulk B');
    await eventually(sam, async () => {
      await open(ctx, sam, '/inbox?q=carol&kind=orders');
      await sam.locator(`#inbox tr[data-order="${a}"]`).waitFor({ timeout: 2_000 });
      await sam.locator(`#inbox tr[data-order="${b}"]`).waitFor({ timeout: 2_000 });
    });
    if (ctx.javaScriptEnabled) await hydrated(sam);
    await sam.locator(`#inbox tr[data-order="${a}"] input[type=checkbox]`).check();
    await sam.locator(`#inbox tr[data-order="${b}"] input[type=checkbox]`).check();
    // Pat takes B first: sam's bulk action must say so for B alone.
    const patRow = await inboxRow(ctx, pat, b);
    await submit(ctx, pat, patRow.locator('button.advance'));
    await until(async () => assert.match(await pat.locator('.toast.ok').innerText(), /advanced by pat/));
    await ctx.screenshot(sam, 'inbox-bulk');
    await submit(ctx, sam, sam.locator('#bulk-apply'));
    const results = sam.locator('#bulk-results');
    await until(async () => {
      assert.match(await results.locator(`li[data-order="${a}"]`).innerText({ timeout: 1_000 }), /advanced by sam/);
      assert.match(await results.locator(`li[data-order="${b}"]`).innerText({ timeout: 1_000 }), /already decided by pat/);
    });
    assert.equal(await results.locator('li.ok').count(), 1);
    assert.equal(await results.locator('li.err').count(), 1);
  });

  it('filters, searches and sorts the inbox, and pages through it', async () => {
    const sam = await ctx.signedIn('sam');
    await open(ctx, sam, '/inbox');
    await sam.selectOption('#filters select[name=kind]', 'signatures');
    await Promise.all([
      sam.waitForURL(/kind=signatures/, { timeout: 15_000 }),
      sam.click('#apply-filters'),
    ]);
    await until(async () => {
      const kinds = await sam.locator('#inbox tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.kind));
      assert.ok(kinds.length > 0);
      assert.ok(kinds.every((k) => k === 'signature'), kinds.join());
    });
    await open(ctx, sam, '/inbox?q=dave');
    await until(async () => {
      const who = await sam.locator('#inbox tbody tr td:nth-child(3)').allInnerTexts();
      assert.ok(who.length > 0 && who.every((w) => w === 'dave'), who.join());
    });
    await open(ctx, sam, '/inbox?sort=deadline');
    const first = sam.locator('#inbox tbody tr').first();
    assert.equal(await first.getAttribute('data-kind'), 'signature');
    assert.match(await first.innerText(), /left/);
    await ctx.screenshot(sam, 'inbox-by-deadline');
  });

  it('shows staff the execution events, a page at a time', async () => {
    const sam = await ctx.signedIn('sam');
    await open(ctx, sam, '/inbox?kind=orders');
    const href = await sam.locator('#inbox tbody tr a').first().getAttribute('href');
    await open(ctx, sam, href);
    const events = sam.locator('#events');
    await until(async () => assert.match(await events.innerText({ timeout: 1_000 }), /ExecutionStarted/));
    assert.match(await events.innerText(), /TaskStateEntered/);
    assert.match(await events.innerText(), /Wait for staff: PENDING|Wait for staff: PROCESSING/);
    await ctx.screenshot(sam, 'order-events');
  });

  if (ctx.javaScriptEnabled) {
    it('updates an open inbox live when someone else acts', async () => {
      const sam = await ctx.signedIn('sam');
      const pat = await ctx.signedIn('pat');
      const carol = await ctx.signedIn('carol');
      await open(ctx, sam, '/inbox?q=carol&kind=orders');
      await sam.waitForSelector('html[data-live="on"]', { timeout: 15_000 });
      // A new order appears without a reload…
      const id = await placeOrder(ctx, carol, 'Live teapot');
      const row = sam.locator(`#inbox tr[data-order="${id}"]`);
      await row.waitFor({ timeout: 15_000 });
      // …and leaves when pat decides it elsewhere (it comes back at its
      // next step, PROCESSING).
      const patRow = await inboxRow(ctx, pat, id);
      await patRow.locator('button.advance').click();
      await until(async () => assert.match(await row.innerText({ timeout: 1_000 }), /PROCESSING/));
      // The order page open in another browser follows too.
      await open(ctx, carol, `/orders/${id}`);
      await carol.waitForSelector('html[data-live="on"]', { timeout: 15_000 });
      const patRow2 = await inboxRow(ctx, pat, id);
      await until(async () => assert.match(await patRow2.innerText({ timeout: 1_000 }), /PROCESSING/));
      await patRow2.locator('button.advance').click();
      await until(async () => assert.match(await carol.locator('.summary').innerText({ timeout: 1_000 }), /SENT/));
    });

    it('moves through the inbox with j and k and advances with a', async () => {
      const sam = await ctx.signedIn('sam');
      await open(ctx, sam, '/inbox?kind=orders&status=PENDING');
      const rows = sam.locator('#inbox tbody tr');
      await rows.first().waitFor();
      const second = await rows.nth(1).getAttribute('data-order');
      await sam.keyboard.press('j');
      await sam.keyboard.press('j');
      await until(async () => assert.match(await rows.nth(1).getAttribute('class') ?? '', /current/));
      await sam.keyboard.press('k');
      await until(async () => assert.match(await rows.nth(0).getAttribute('class') ?? '', /current/));
      await sam.keyboard.press('j');
      await sam.keyboard.press('a');
      await until(async () => assert.match(await sam.locator('.toast.ok').innerText(), new RegExp(`${second.slice(0, 8)} advanced by sam`)));
      // The advanced order leaves this PENDING-only list; then r goes to
      // the current row's reason field.
      await until(async () => assert.equal(await sam.locator(`#inbox tr[data-order="${second}"]`).count(), 0));
      await sam.keyboard.press('j');
      await sam.keyboard.press('r');
      assert.equal(await sam.evaluate(() => document.activeElement?.className), 'reason');
    });

    it('passes an axe scan on every page, light and dark', async () => {
      const pages = [
        [null, '/'], [null, '/sign-in'], ['sam', '/inbox'], ['sam', '/inbox?sort=deadline'],
        ['carol', '/orders'], ['bob', '/desk'],
      ];
      const signedIn = {};
      for (const scheme of ['light', 'dark']) {
        for (const [who, path] of pages) {
          const page = who ? (signedIn[who] ??= await ctx.signedIn(who)) : await ctx.page();
          await page.emulateMedia({ colorScheme: scheme });
          await open(ctx, page, path);
          await axeClean(page, `${path} (${scheme})`);
        }
        // An order's page (staff, with events) and a document's page.
        const sam = signedIn.sam;
        await open(ctx, sam, '/inbox?kind=orders');
        await open(ctx, sam, await sam.locator('#inbox tbody tr a').first().getAttribute('href'));
        await sam.locator('#events table').waitFor();
        await sam.locator('#workflow svg.flow').first().waitFor();
        await axeClean(sam, `order (${scheme})`);
        await ctx.screenshot(sam, `order-${scheme}`);
        await open(ctx, sam, '/inbox?kind=signatures');
        await open(ctx, sam, await sam.locator('#inbox tbody tr a').first().getAttribute('href'));
        await sam.locator('#workflow svg.flow').first().waitFor();
        await axeClean(sam, `document (${scheme})`);
        await ctx.screenshot(sam, `document-${scheme}`);
      }
    });

    it('fits the desk on a phone', async () => {
      const bob = await ctx.signedIn('bob');
      await bob.setViewportSize({ width: 390, height: 844 });
      await open(ctx, bob, '/desk');
      const sign = bob.locator('#desk li button.advance').first();
      await sign.waitFor();
      const box = await sign.boundingBox();
      assert.ok(box.width >= 300, `the Sign button is thumb-wide (${box.width}px)`);
      assert.ok(box.height >= 44, `and tall enough (${box.height}px)`);
      const overflow = await bob.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no sideways scrolling (${overflow}px)`);
      await ctx.screenshot(bob, 'desk-phone');
    });
  }
});
