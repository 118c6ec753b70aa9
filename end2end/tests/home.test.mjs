// The start page: a button that calls a server function which writes to
// DynamoDB. With JavaScript the count updates in place (hydration works);
// without it the form posts and the reloaded page shows the new count.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { eachJsMode, hydrated } from '../support/harness.mjs';

async function count(page) {
  const el = page.locator('#service-checks');
  await el.waitFor();
  return Number(await el.getAttribute('data-count'));
}

eachJsMode('start page', (ctx) => {
  it('renders on the server with the current count', async () => {
    const page = await ctx.page();
    const response = await page.goto(ctx.base + '/');
    assert.equal(response.status(), 200);
    assert.equal(await page.title(), 'Countersign');
    assert.equal(await count(page), 0);
    await ctx.screenshot(page, 'home');
  });

  it('records a service check when the button is pressed', async () => {
    const page = await ctx.page();
    await page.goto(ctx.base + '/');
    if (ctx.javaScriptEnabled) await hydrated(page);
    const before = await count(page);

    // A marker on window survives only if the page is not reloaded.
    await page.evaluate(() => { window.__sameDocument = true; }).catch(() => {});
    const navigations = [];
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations.push(f.url()); });

    await page.click('#record-check');
    await page.waitForFunction(
      (n) => Number(document.querySelector('#service-checks')?.dataset.count) === n,
      before + 1,
      { timeout: 10_000 },
    ).catch(async () => {
      // waitForFunction needs JavaScript in the page; without it, read the
      // reloaded document instead.
      await page.waitForLoadState('load');
    });
    assert.equal(await count(page), before + 1);

    if (ctx.javaScriptEnabled) {
      assert.equal(await page.evaluate(() => window.__sameDocument), true, 'page reloaded');
      assert.deepEqual(navigations, [], 'no navigation with JavaScript');
    } else {
      assert.ok(navigations.length >= 1, 'the form post should navigate');
      assert.equal(new URL(page.url()).pathname, '/');
    }
  });

  it('answers unknown paths with a 404 page', async () => {
    const page = await ctx.page();
    const response = await page.goto(ctx.base + '/no/such/page');
    assert.equal(response.status(), 404);
    assert.match(await page.locator('h1').innerText(), /Not found/);
  });
});
