// The popup on a WooCommerce order-received page (what the companion plugin
// prints), in headless chromium: app/stack's TestWooCommerceReferralLoop
// runs it with PAGE (the simulator's order-received URL, with the order
// key), LINK, CODE and OUT_DIR.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { env, launch } from "./lib.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("the advocate's popup on the WooCommerce order-received page", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(env("PAGE"));
  const dialog = page.locator("parrain-popup [role=dialog]");
  await dialog.waitFor({ timeout: 15000 });
  assert.equal(await page.locator("parrain-popup input").inputValue(), env("LINK"));
  assert.equal(await page.locator("parrain-popup .code").textContent(), env("CODE"));
  mkdirSync(env("OUT_DIR"), { recursive: true });
  await page.screenshot({ path: `${env("OUT_DIR")}/woocommerce-order-received.png` });
  // The same page with a wrong key is not shown by the store at all.
  const wrong = new URL(env("PAGE"));
  wrong.searchParams.set("key", "wc_order_guess");
  const resp = await page.goto(wrong.toString());
  assert.equal(resp.status(), 403);
  assert.deepEqual(errors, []);
});

// The friend follows the advocate's link: Parrain's /r/ sends them to the
// store's own origin, where the plugin keeps ?ref= and puts the friend
// coupon in the cart; the checkout carries both onto the order (app/stack
// checks the order in the store).
test("the friend arrives through the referral link with the coupon applied", async () => {
  const page = await browser.newPage();
  const resp = await page.goto(env("FRIEND_LINK"));
  assert.equal(resp.status(), 200);
  assert.equal(new URL(page.url()).origin, new URL(env("STORE")).origin);
  assert.equal(new URL(page.url()).searchParams.get("ref"), env("REF"));
  assert.equal((await page.locator(".coupon").textContent()).toUpperCase(), env("CODE"));
  await page.fill("input[name=billing_email]", env("FRIEND_EMAIL"));
  await page.fill("input[name=billing_first_name]", "Bob");
  await page.fill("input[name=total]", "45.00");
  await Promise.all([page.waitForURL(/\/checkout\/order-received\/\d+\//), page.click("button[type=submit]")]);
  mkdirSync(env("OUT_DIR"), { recursive: true });
  await page.screenshot({ path: `${env("OUT_DIR")}/woocommerce-friend-order-received.png` });
});
