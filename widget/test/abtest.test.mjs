// Browser test of the A/B test page: the merchant's staff starts a test of
// a second offer, reads the results, ends it keeping B, and the program
// then gives B's offer. app/stack's TestABTestInBrowser seeds the shop and
// staff, then runs this file with APP_URL, SHOP, PASSWORD and OUT_DIR.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { env, launch } from "./lib.mjs";

const APP = env("APP_URL"), SHOP = env("SHOP"), PASSWORD = env("PASSWORD"), OUT = env("OUT_DIR");
mkdirSync(OUT, { recursive: true });

const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

// axe checks the page as the sweep does: no serious or critical violation.
async function axe(page, name) {
  await page.addScriptTag({ path: axePath });
  const res = await page.evaluate(() => window.axe.run(document, { iframes: false, resultTypes: ["violations"] }));
  const bad = res.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${name}: [${v.impact}] ${v.id} — ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
  assert.deepEqual(bad, []);
}

let browser;
const pageErrors = [];
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test("the merchant starts an A/B test, reads the results and ends it keeping B", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(`${APP}/console/login`);
  await page.getByLabel("Email").fill("support@parrain.test");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(`${APP}/console/`);
  await page.goto(`${APP}/console/shops/${SHOP}/setup`);
  await page.getByRole("navigation", { name: "Shop" }).getByRole("link", { name: "A/B test" }).click();
  await page.waitForURL(/\/abtest$/);
  await page.getByRole("heading", { name: "A/B test of the offer" }).waitFor();
  assert.match(await page.locator("main").textContent(), /No test yet\./);

  // Nothing changed in arm B: refused, said next to the form.
  const form = page.locator("form#ab-start");
  await form.getByRole("button", { name: "Start the test" }).click();
  await page.getByRole("alert").filter({ hasText: "Arm B must change the friend's discount, the reward, or both." }).first().waitFor();
  await axe(page, "refused");

  // Arm B: 25% off for friends, a 15.00 reward; half the new advocates.
  await page.locator("#ab-name").fill("Friends 25%");
  await page.locator("#friend_b_kind").selectOption("percent");
  await page.locator("#friend_b_percent").fill("25");
  await page.locator("#reward_b_kind").selectOption("fixed");
  await page.locator("#reward_b_amount").fill("15");
  await page.getByLabel("Share of new advocates in B, in percent").fill("50");
  await page.getByLabel("Goal").selectOption("conversion");
  await form.getByRole("button", { name: "Start the test" }).click();
  await page.getByRole("status").filter({ hasText: "A/B test started" }).waitFor();

  // The results: both arms side by side, the offers, the verdict.
  const results = page.locator("#abtest-results");
  const table = results.locator("table");
  assert.match(await table.locator("thead").textContent(), /A \(standing offer\).*B \(challenger\)/s);
  // A row's cells, "figure | A | B".
  const row = async (name) => (await table.getByRole("row", { name: new RegExp(`^${name}`) }).locator("th, td").allTextContents()).join(" | ");
  assert.match(await row("Friend's discount"), /^Friend's discount \| 10% off \| 25% off$/);
  assert.match(await row("Advocate's reward"), /^Advocate's reward \| €10 off \| €15 off$/);
  assert.equal(await row("Advocates"), "Advocates | 0 | 0");
  assert.equal(await row("Friends' orders"), "Friends' orders | 0 | 0");
  assert.equal(await row("Conversion"), "Conversion (95% interval) | — | —");
  assert.match(await results.locator("#ab-verdict").textContent(), /Not enough data yet/);
  assert.match(await results.textContent(), /50% of new advocates in B/);
  assert.match(await results.textContent(), /Newcombe/);
  // One test at a time: no start form while this one runs.
  assert.equal(await page.locator("form#ab-start").count(), 0);
  await page.screenshot({ path: `${OUT}/abtest-running.png`, fullPage: true });
  await axe(page, "running");

  // In French, the same page.
  await page.goto(`${APP}/console/shops/${SHOP}/abtest?lang=fr`);
  await page.getByRole("heading", { name: "Test A/B de l'offre" }).waitFor();
  assert.match(await page.locator("#ab-verdict").textContent(), /Pas encore assez de données/);
  assert.match(await page.locator("#abtest-results table").textContent(), /25 % de remise/);
  await page.goto(`${APP}/console/shops/${SHOP}/abtest?lang=en`);

  // End it, keeping B.
  await page.getByLabel("B: its offer becomes the program's").check();
  await page.getByRole("button", { name: "End the test" }).click();
  await page.getByRole("status").filter({ hasText: "A/B test ended." }).waitFor();
  assert.match(await page.locator("#ab-kept").textContent(), /Kept: B \(challenger\)/);
  assert.equal(await page.getByRole("button", { name: "End the test" }).count(), 0);
  await page.screenshot({ path: `${OUT}/abtest-ended.png`, fullPage: true });
  await axe(page, "ended");

  // The program now gives B's offer; a new test can be started again.
  await page.goto(`${APP}/console/shops/${SHOP}/settings`);
  assert.equal(await page.locator("#friend_percent").inputValue(), "25");
  assert.equal(await page.locator("#reward_amount").inputValue(), "15.00");
  await page.goto(`${APP}/console/shops/${SHOP}/abtest`);
  await page.locator("form#ab-start").waitFor();
  assert.match(await page.locator("main").textContent(), /Tests.*Results #\d+.*Friends 25%/s);
  await ctx.close();
});

test("no script error on the page", () => {
  assert.deepEqual(pageErrors, []);
});
