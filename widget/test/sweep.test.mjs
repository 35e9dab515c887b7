// The browser sweep of the console: every page, standalone (staff cookie)
// and inside the Shopify admin (App Bridge and Polaris stood in), in every
// language, at phone and desktop width; a full-page screenshot of each
// under OUT_DIR and axe-core's verdict: no serious or critical violation.
// app/stack's TestConsoleSweepInBrowser seeds the shops and runs this file.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { env, launch } from "./lib.mjs";
import { standInShopify, embeddedURL, shown } from "./standins.mjs";

const APP = env("APP_URL"), SHOP = env("SHOP"), REVIEW = env("REVIEW_ID"), PASSWORD = env("PASSWORD"), TOKEN = env("TOKEN"), OUT = env("OUT_DIR");
// The console's languages: one line to extend (the Accept-Language the
// browser sends; LANGS narrows a run).
const LANGUAGES = (process.env.LANGS || "en,fr").split(",");
const LOCALES = { en: "en-US", fr: "fr-FR" };
const VIEWPORTS = [{ name: "phone", width: 390, height: 844 }, { name: "desktop", width: 1280, height: 900 }];
// Every page of a shop, by its path under the shop (console) or under
// /shopify/admin (embedded).
const SHOP_PAGES = [
  ["setup", "setup"], ["queue", "queue"], ["queue-to-review", "queue?flagged=1"], ["referral", `referrals/${REVIEW}`],
  ["customers", "customers?q=adv0@example.com"], ["dashboard", "dashboard"], ["settings", "settings"],
  ["emails", "emails"], ["events", "endpoints"], ["whynot", "whynot?q=adv0@example.com"], ["campaigns", "campaigns"], ["abtest", "abtest"],
];
// The staff-only pages of the standalone console.
const STAFF_PAGES = [["shops", "/console/"], ["staff", "/console/staff"]];
const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
mkdirSync(OUT, { recursive: true });

let browser;
const violations = [], pageErrors = [];
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function context(lang, vp) {
  const ctx = await browser.newContext({ viewport: { width: vp.width, height: vp.height }, locale: LOCALES[lang] || lang });
  return ctx;
}

// check screenshots the page and runs axe-core on it.
const timing = { screenshot: 0, axe: 0, pages: 0 };
async function check(page, name) {
  let t = Date.now();
  await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });
  timing.screenshot += Date.now() - t;
  t = Date.now();
  await page.addScriptTag({ path: axePath });
  const res = await page.evaluate(() => window.axe.run(document, { iframes: false, resultTypes: ["violations"] }));
  timing.axe += Date.now() - t;
  timing.pages++;
  for (const v of res.violations) {
    if (v.impact === "serious" || v.impact === "critical") {
      violations.push(`${name}: [${v.impact}] ${v.id} — ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
    }
  }
}

for (const lang of LANGUAGES) {
  for (const vp of VIEWPORTS) {
    test(`standalone console, ${lang}, ${vp.name}`, async () => {
      const ctx = await context(lang, vp);
      const page = await ctx.newPage();
      page.on("pageerror", (e) => pageErrors.push(`${lang}/${vp.name}: ${e.message}`));
      await page.goto(`${APP}/console/login`);
      await check(page, `standalone-${lang}-${vp.name}-login`);
      await page.locator("#email").fill("owner@parrain.test");
      await page.locator("#password").fill(PASSWORD);
      await page.locator("form[action='/console/login'] button").click();
      await page.waitForURL(`${APP}/console/`);
      for (const [name, path] of STAFF_PAGES) {
        await page.goto(APP + path);
        await check(page, `standalone-${lang}-${vp.name}-${name}`);
      }
      for (const [name, path] of SHOP_PAGES) {
        const resp = await page.goto(`${APP}/console/shops/${SHOP}/${path}`);
        assert.equal(resp.status(), 200, `${name}: ${resp.status()}`);
        await check(page, `standalone-${lang}-${vp.name}-${name}`);
      }
      await ctx.close();
    });

    test(`inside the Shopify admin, ${lang}, ${vp.name}`, async () => {
      const ctx = await context(lang, vp);
      await standInShopify(ctx, { shop: SHOP, token: TOKEN });
      const page = await ctx.newPage();
      page.on("pageerror", (e) => pageErrors.push(`embedded ${lang}/${vp.name}: ${e.message}`));
      for (const [name, path] of SHOP_PAGES) {
        await page.goto(embeddedURL(APP, SHOP, path));
        await shown(page);
        assert.equal(await page.locator("header").count(), 0, `${name}: the console's header inside the admin`);
        assert.doesNotMatch(await page.locator("#app").textContent(), /Opening Parrain/);
        if (name === "settings") await page.frameLocator("iframe#preview").locator("parrain-popup #pd").waitFor();
        await check(page, `embedded-${lang}-${vp.name}-${name}`);
      }
      await ctx.close();
    });
  }
}

test("outside the Shopify admin the page says so and links there", async () => {
  const ctx = await context("en", VIEWPORTS[1]);
  const page = await ctx.newPage();
  await page.goto(`${APP}/shopify/admin`);
  await page.getByRole("heading", { name: "Parrain opens inside your Shopify admin" }).waitFor();
  await check(page, "outside-no-query");
  // With Shopify's query but no App Bridge (not framed by the admin, or
  // its script blocked): the same, not "Opening…" forever.
  await standInShopify(ctx, { shop: SHOP, token: TOKEN, appBridge: false });
  await page.goto(embeddedURL(APP, SHOP, "setup"));
  await page.locator("#outside").getByRole("heading", { name: "Parrain opens inside your Shopify admin" }).waitFor();
  assert.equal(await page.getByRole("link", { name: `Open Parrain in ${SHOP}'s admin` }).getAttribute("href"), `https://${SHOP}/admin/apps/${env("API_KEY")}`);
  await check(page, "outside-no-app-bridge");
  await ctx.close();
});

test("axe-core: no serious or critical violation on any page", () => {
  console.log(`${timing.pages} pages checked: screenshots ${timing.screenshot} ms, axe-core ${timing.axe} ms in all`);
  assert.deepEqual(violations, []);
});

test("no script error on any page", () => {
  assert.deepEqual(pageErrors, []);
});
