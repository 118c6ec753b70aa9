// The people of the dashboard, each in a browser of their own, with
// JavaScript on and off: signing in, the staff inbox, a customer's order,
// bob's desk. The harness fails the run if any response carried a task
// token.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { eachJsMode, eventually, hydrated } from '../support/harness.mjs';


eachJsMode('people', (ctx) => {
  it('shows the start page and the sign-in form to anyone', async () => {
    const page = await ctx.page();
    const response = await page.goto(ctx.base + '/');
    assert.equal(response.status(), 200);
    assert.equal(await page.title(), 'Countersign');
    await page.locator('#sign-in-link').waitFor();
    await ctx.screenshot(page, 'home');
    await page.goto(ctx.base + '/sign-in');
    await ctx.screenshot(page, 'sign-in');
  });

  it('refuses a wrong password with a clear message', async () => {
    const page = await ctx.page();
    await page.goto(ctx.base + '/sign-in');
    if (ctx.javaScriptEnabled) await hydrated(page);
    await page.fill('#name', 'sam');
    await page.fill('#password', 'not-the-password');
    await page.click('#sign-in');
    await page.locator('#sign-in-error').waitFor({ timeout: 15_000 });
    assert.match(await page.locator('#sign-in-error').innerText(), /wrong name or password/);
  });

  it('keeps the inbox from anyone not signed in', async () => {
    const page = await ctx.page();
    await page.goto(ctx.base + '/inbox');
    assert.match(await page.locator('.error').innerText(), /sign in/i);
  });

  it('lets staff advance an order from the inbox', async () => {
    const page = await ctx.signedIn('sam');
    assert.equal(new URL(page.url()).pathname, '/inbox');
    if (ctx.javaScriptEnabled) await hydrated(page);
    const row = page.locator('#inbox tr[data-order]').first();
    await row.waitFor();
    const order = await row.getAttribute('data-order');
    assert.match(await row.innerText(), /PENDING/);
    await ctx.screenshot(page, 'inbox');
    await row.locator('button.advance').click();
    await eventually(page, async () => {
      const now = page.locator(`#inbox tr[data-order="${order}"]`);
      assert.match(await now.innerText({ timeout: 2_000 }), /PROCESSING/);
    });
    await page.goto(`${ctx.base}/orders/${order}`);
    assert.match(await page.locator('#history').innerText(), /advance by sam/);
    await ctx.screenshot(page, 'order');
  });

  it('lets a customer place an order and follow it', async () => {
    const page = await ctx.signedIn('carol');
    assert.equal(new URL(page.url()).pathname, '/orders');
    if (ctx.javaScriptEnabled) await hydrated(page);
    const item = `Teapot ${ctx.javaScriptEnabled ? 'on' : 'off'}`;
    await page.fill('#items', item);
    await Promise.all([
      page.waitForURL(/\/orders\/[0-9a-f-]{36}$/, { timeout: 15_000 }),
      page.click('#place-order'),
    ]);
    await eventually(page, async () => {
      assert.match(await page.locator('main').innerText({ timeout: 2_000 }), /PENDING/);
    });
    await page.goto(ctx.base + '/orders');
    assert.match(await page.locator('#my-orders').innerText(), new RegExp(item));
    await ctx.screenshot(page, 'my-orders');
  });

  it('lets bob sign what waits on his desk', async () => {
    const page = await ctx.signedIn('bob');
    assert.equal(new URL(page.url()).pathname, '/desk');
    if (ctx.javaScriptEnabled) await hydrated(page);
    const card = page.locator('#desk li[data-document]').first();
    await card.waitFor();
    await ctx.screenshot(page, 'desk');
    const document = await card.getAttribute('data-document');
    await card.locator('button.advance').click();
    await eventually(page, async () => {
      assert.equal(await page.locator(`#desk li[data-document="${document}"]`).count(), 0);
    });
    await page.goto(`${ctx.base}/signing/${document}`);
    assert.match(await page.locator('#signers').innerText(), /bob: signed/);
  });
});
