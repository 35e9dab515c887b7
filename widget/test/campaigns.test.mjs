// Browser test of campaigns (issue 15): the merchant creates a campaign in
// the console, in the shop's time, and sees it in the popup preview; an
// overlapping one is refused with the other's name. app/stack's
// TestCampaignsInBrowser seeds the shop and runs this file with APP_URL,
// SHOP, PASSWORD and OUT_DIR.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { env, launch } from "./lib.mjs";

const APP = env("APP_URL"), SHOP = env("SHOP"), PASSWORD = env("PASSWORD"), OUT = env("OUT_DIR");
mkdirSync(OUT, { recursive: true });

let browser;
const pageErrors = [];
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// day is a datetime-local value n days from today, at midnight.
function day(n) {
  const d = new Date(Date.now() + n * 86400000);
  return d.toISOString().slice(0, 10) + "T00:00";
}

test("the merchant creates a campaign and sees it in the popup preview", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(`${APP}/console/login`);
  await page.getByLabel("Email").fill("owner@parrain.test");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(`${APP}/console/`);

  await page.goto(`${APP}/console/shops/${SHOP}/settings`);
  await page.getByRole("link", { name: "Campaigns" }).click();
  await page.waitForURL(/\/campaigns$/);
  await page.getByText("No campaign yet.").waitFor();
  assert.match(await page.locator("main").textContent(), /Times are the shop's \(Europe\/Paris\)/);

  await page.getByLabel("Name (shown to shoppers)").fill("Double rewards");
  await page.getByLabel("Starts").fill(day(-1));
  await page.getByLabel("Ends (not included)").fill(day(30));
  await page.getByLabel("The campaign's offer").selectOption("add");
  await page.locator("#c-reward-kind").selectOption("fixed");
  await page.locator("#c-reward-value").fill("10.00");
  await page.getByRole("button", { name: "Save the campaign" }).click();
  await page.getByRole("status").filter({ hasText: "Campaign “Double rewards” saved." }).waitFor();
  const row = page.locator("tbody tr").first();
  assert.match(await row.textContent(), /Double rewards.*Running/s);

  // The preview shows the campaign and its offer: €10 + €10.
  const preview = page.frameLocator("iframe#preview");
  const line = preview.locator("parrain-popup #pc");
  await line.waitFor();
  assert.match(await line.textContent(), /^Double rewards — until \d{1,2} [A-Z][a-z]+$/);
  assert.match(await preview.locator("parrain-popup #pd").textContent(), /get €20 for each friend/);
  await page.screenshot({ path: `${OUT}/campaigns.png`, fullPage: true });

  // An overlapping campaign is refused, naming the one it meets.
  await page.getByLabel("Name (shown to shoppers)").fill("Winter sale");
  await page.getByLabel("Starts").fill(day(10));
  await page.getByLabel("Ends (not included)").fill(day(40));
  await page.locator("#c-friend-kind").selectOption("percent");
  await page.locator("#c-friend-value").fill("20");
  await page.locator("#c-reward-kind").selectOption("");
  await page.getByRole("button", { name: "Save the campaign" }).click();
  const err = page.locator("#campaign-error");
  await err.waitFor();
  assert.match(await err.textContent(), /overlaps "Double rewards"/);
  assert.equal(await page.getByLabel("Name (shown to shoppers)").inputValue(), "Winter sale", "the form keeps what was typed");
  assert.equal(await page.locator("tbody tr").count(), 1);
  await ctx.close();
});

test("no script error on the campaigns page", () => {
  assert.deepEqual(pageErrors, []);
});
