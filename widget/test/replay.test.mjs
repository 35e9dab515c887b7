// Browser test of the replay of a rule change (the settings page's
// "Preview the effect"), in Debian's headless chromium driven by
// playwright-core. app/stack's TestReplayInBrowser seeds a shop whose
// advocate referred orders of 30.00, 50.00 and 80.00 (all held), then runs
// this file with APP_URL, SHOP, PASSWORD, FIRST_REFERRAL (the 30.00
// order's), TOKEN and OUT_DIR.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { env, launch } from "./lib.mjs";
import { standInShopify, embeddedURL, shown } from "./standins.mjs";

const APP = env("APP_URL"), SHOP = env("SHOP"), PASSWORD = env("PASSWORD"), FIRST = env("FIRST_REFERRAL"), OUT = env("OUT_DIR");
mkdirSync(OUT, { recursive: true });

let browser;
const pageErrors = [];
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function loggedIn() {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(`${APP}/console/login`);
  await page.getByLabel("Email").fill("owner@parrain.test");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(`${APP}/console/`);
  return page;
}

test("the merchant previews a higher minimum order, applies it, and the referral's timeline says so", async () => {
  const page = await loggedIn();
  await page.goto(`${APP}/console/shops/${SHOP}/settings`);
  await page.locator("#min_order").fill("60.00");
  await page.getByLabel("Over the last (days)").fill("30");
  await page.getByRole("button", { name: "Preview the effect" }).click();
  const report = page.locator("#replay-report");
  await report.waitFor();
  // Nothing saved yet: the form keeps the proposed value.
  assert.equal(await page.locator("#min_order").inputValue(), "60.00");
  const rows = report.locator("#replay-changes tbody tr");
  assert.equal(await rows.count(), 2);
  const text = await report.textContent();
  assert.match(text, /2 orders judged differently/);
  assert.match(text, /4 orders in the period, 3 of them referred/);
  // Two 10.00 rewards fewer.
  assert.match(await page.locator("#replay-cost").textContent(), /−\s?€\s?20\b/);
  for (const total of ["30.00 EUR", "50.00 EUR"]) {
    const row = rows.filter({ hasText: `order total ${total}` });
    assert.match(await row.textContent(), /Counted.*Rejected.*under the minimum.*Updated/s);
  }
  assert.match(text, /updates 2 open referrals/);
  await page.screenshot({ path: `${OUT}/replay-report.png`, fullPage: true });
  // The program in force is unchanged until applied.
  const saved = await page.evaluate((u) => fetch(u).then((r) => r.json()), `/api/admin/shops/${SHOP}/program`);
  assert.notEqual(saved.min_order_minor, 6000);
  await page.getByRole("button", { name: "Save and apply" }).click();
  await page.getByRole("status").filter({ hasText: "Settings saved. 2 referrals updated by the new rules." }).waitFor();
  assert.equal(await page.locator("#min_order").inputValue(), "60.00");
  // The referral's timeline: changed by a rule change, by whom.
  await page.goto(`${APP}/console/shops/${SHOP}/referrals/${FIRST}`);
  const main = await page.locator("main").textContent();
  assert.match(main, /Changed by a rule change/);
  assert.match(main, /owner@parrain\.test/);
  await page.context().close();
});

test("the report in French", async () => {
  const page = await loggedIn();
  await page.goto(`${APP}/console/shops/${SHOP}/settings?lang=fr`);
  await page.getByLabel("Sur les derniers (jours)").fill("30");
  await page.getByRole("button", { name: "Voir l'effet" }).click();
  const report = page.locator("#replay-report");
  await report.waitFor();
  assert.match(await report.textContent(), /Avec ces réglages, du/);
  assert.match(await report.textContent(), /ne changeraient aucune décision/);
  await page.screenshot({ path: `${OUT}/replay-report-fr.png`, fullPage: true });
  await page.context().close();
});

test("inside the Shopify admin: preview and apply with App Bridge's token", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  await standInShopify(ctx, { shop: SHOP, token: env("TOKEN") });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(embeddedURL(APP, SHOP, "settings"));
  await shown(page);
  // The settings page's own scripts run once it is shown; fill after the
  // page settled, and check the value is the one previewed.
  await page.waitForLoadState("networkidle");
  await page.locator("#min_order").fill("90.00");
  assert.equal(await page.locator("#min_order").inputValue(), "90.00");
  await page.getByRole("button", { name: "Preview the effect" }).click();
  const report = page.locator("#replay-report");
  await report.waitFor();
  const n = await report.locator("#replay-changes tbody tr").count();
  assert.equal(n, 1, `one order judged differently at a 90.00 minimum; the report said: ${await report.textContent()}`);
  assert.match(await report.locator("#replay-changes").textContent(), /order total 80\.00 EUR/);
  await page.screenshot({ path: `${OUT}/replay-embedded.png`, fullPage: true });
  await page.getByRole("button", { name: "Save and apply" }).click();
  await page.waitForFunction(() => window.__toasts.some((t) => /1 referrals updated/.test(t.message)));
  await ctx.close();
});

test("no script error", () => {
  assert.deepEqual(pageErrors, []);
});
