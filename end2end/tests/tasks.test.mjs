// Tasks of any kind in the browser, with JavaScript on and off: carol asks
// for an expense through the kind's start form (refused field by field
// first), two of finance approve a large one, a small one is rejected with
// a reason, and nobody may approve their own. The task page draws the
// workflow where it stands and says beside each button where it leads.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { axeClean, eachJsMode, eventually, hydrated } from '../support/harness.mjs';

/** Opens the expense start form on /tasks and fills it in. */
async function fillExpense(ctx, page, { amount, purpose }) {
  await page.goto(ctx.base + '/tasks');
  if (ctx.javaScriptEnabled) await hydrated(page);
  const form = page.locator('#start-expense-approval');
  if ((await form.getAttribute('open')) === null) await form.locator('summary').click();
  await form.locator('#expense-approval-amount').fill(amount);
  await form.locator('#expense-approval-currency').selectOption('EUR');
  await form.locator('#expense-approval-purpose').fill(purpose);
  await form.locator('button[type=submit]').click();
}

/** The task page of carol's expense titled `title`, once it is listed. */
async function openExpense(ctx, page, title, view = 'open') {
  await page.goto(`${ctx.base}/tasks?view=${view}`);
  const link = page.locator('#tasks li a', { hasText: title });
  await eventually(page, () => link.first().waitFor({ timeout: 1_000 }));
  await link.first().click();
  await page.locator('h1', { hasText: title }).waitFor();
  if (ctx.javaScriptEnabled) await hydrated(page);
}

eachJsMode('tasks', (ctx) => {
  it('refuses a bad start form field by field, then starts the expense', async () => {
    const page = await ctx.signedIn('carol');
    await fillExpense(ctx, page, { amount: '12.345', purpose: 'conference' });
    const error = page.locator('#expense-approval-amount-error');
    await error.waitFor({ timeout: 15_000 });
    assert.match(await error.innerText(), /amount/);
    await fillExpense(ctx, page, { amount: '4200', purpose: 'conference' });
    await openExpense(ctx, page, 'Expense of 4200.00 EUR: conference');
    assert.match(await page.locator('#context').innerText(), /4200\.00/);
    // The requester may not approve their own.
    assert.equal(await page.locator('form[data-action=approve]').count(), 0);
    await ctx.screenshot(page, 'task-requested');
  });

  it('takes two of finance to approve a large expense', async () => {
    const pat = await ctx.signedIn('pat');
    await openExpense(ctx, pat, 'Expense of 4200.00 EUR: conference', 'my-groups');
    // The workflow, drawn on the server: the way it took and where it waits.
    const drawing = pat.locator('#workflow svg.flow').first();
    await drawing.waitFor({ timeout: 15_000 });
    const state = (name) => drawing.locator(`[data-state="${name}"]`);
    assert.equal(await state('Wait for finance').getAttribute('data-mark'), 'here');
    assert.equal(await state('Two approvers').getAttribute('data-mark'), 'taken');
    assert.equal(await state('One approver').getAttribute('data-mark'), 'untouched');
    assert.equal(await state('Expired').getAttribute('data-mark'), 'untouched');
    assert.match(await drawing.locator('desc').textContent(), /Now at: Wait for finance/);
    // Beside each button: where it leads.
    assert.equal(await pat.locator('form[data-action=approve] .leads').innerText(), '→ Approved → the workflow ends');
    assert.equal(await pat.locator('form[data-action=reject] .leads').innerText(), '→ Rejected → the workflow ends');
    // axe runs as page script: only with JavaScript on.
    if (ctx.javaScriptEnabled) {
      for (const scheme of ['light', 'dark']) {
        await pat.emulateMedia({ colorScheme: scheme });
        await axeClean(pat, `task page (${scheme})`);
      }
      await pat.emulateMedia({ colorScheme: 'light' });
    }
    await ctx.screenshot(pat, 'task-workflow-drawn');
    const approve = pat.locator('form[data-action=approve]');
    await approve.locator('#approve-costCentre').fill('events');
    await approve.locator('#approve-reason').fill('worth it');
    await approve.locator('button[type=submit]').click();
    await pat.locator('.toast', { hasText: '1 of 2 approvals' }).waitFor({ timeout: 15_000 });
    await eventually(pat, async () => {
      assert.match(await pat.locator('#approvals').innerText({ timeout: 1_000 }), /pat/);
    });
    // The same person cannot count twice.
    await pat.locator('form[data-action=approve] button[type=submit]').click();
    await pat.locator('.toast', { hasText: /already decided/ }).waitFor({ timeout: 15_000 });

    const sam = await ctx.signedIn('sam');
    await openExpense(ctx, sam, 'Expense of 4200.00 EUR: conference', 'my-groups');
    await sam.locator('form[data-action=approve] button[type=submit]').click();
    await sam.locator('.toast', { hasText: /the workflow goes on/ }).waitFor({ timeout: 15_000 });
    await eventually(sam, async () => {
      assert.match(await sam.locator('.summary').innerText({ timeout: 1_000 }), /APPROVED/);
    });
    await ctx.screenshot(sam, 'task-approved');
  });

  it('rejects a small expense with a reason', async () => {
    const carol = await ctx.signedIn('carol');
    await fillExpense(ctx, carol, { amount: '90', purpose: 'a chair' });
    const pat = await ctx.signedIn('pat');
    await openExpense(ctx, pat, 'Expense of 90.00 EUR: a chair', 'my-groups');
    assert.match(await pat.locator('#holder').innerText(), /Nobody holds it/);
    await pat.locator('#claim').click();
    await eventually(pat, async () => {
      assert.match(await pat.locator('#holder').innerText({ timeout: 1_000 }), /Held by pat/);
    });
    const reject = pat.locator('form[data-action=reject]');
    await reject.locator('#reject-reason').fill('we have chairs');
    await reject.locator('button[type=submit]').click();
    await pat.locator('.toast', { hasText: /the workflow goes on/ }).waitFor({ timeout: 15_000 });
    await eventually(pat, async () => {
      assert.match(await pat.locator('.summary').innerText({ timeout: 1_000 }), /REJECTED/);
    });
  });
});
