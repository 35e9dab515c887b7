// Browser tests of the advocate's page, in Debian's headless chromium on a
// phone-sized screen, with axe-core checking accessibility. app/stack's
// TestAdvocatePageInBrowser builds Marie's referrals (one rewarded, one
// waiting, one refunded, one not counted) and runs this file with:
//   SIM_URL, APP_URL, SHOP, PAGE_URL (Marie's signed page link), EXPIRED_URL,
//   TAMPERED_URL, REWARD_CODE, FRIEND_CODE, LINK (Marie's referral link),
//   HOLD_EN, HOLD_FR (the waiting referral's date as each language writes
//   it, in the shop's time zone), OUT_DIR (screenshots).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { env, launch } from "./lib.mjs";

const SIM = env("SIM_URL"), SHOP = env("SHOP"), PAGE = env("PAGE_URL"), EXPIRED = env("EXPIRED_URL"), TAMPERED = env("TAMPERED_URL");
const REWARD = env("REWARD_CODE"), FRIEND = env("FRIEND_CODE"), LINK = env("LINK"), OUT = env("OUT_DIR");
const HOLD_EN = env("HOLD_EN"), HOLD_FR = env("HOLD_FR");
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
mkdirSync(OUT, { recursive: true });

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

// phone opens a page in a fresh phone-sized context.
async function phone(locale = "en-US", opts = {}) {
  const ctx = await browser.newContext({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale, ...opts,
  });
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.errors = errors;
  return page;
}

// axeCheck fails on any serious or critical violation. axe is evaluated
// through DevTools (not a <script>), which the page's CSP does not govern.
async function axeCheck(page, name) {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) }));
  });
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad, [], `${name}: axe found ${JSON.stringify(bad)}`);
  if (violations.length) console.log(`${name}: minor axe findings ${JSON.stringify(violations)}`);
}

async function noHorizontalScroll(page) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `the page is ${scroll}px wide on a ${width}px screen`);
}

test("the emailed link, in English on a phone: link, code, shares, each referral state, rewards", async () => {
  const page = await phone("en-US", { permissions: ["clipboard-read", "clipboard-write"] });
  const resp = await page.goto(PAGE);
  assert.equal(resp.status(), 200);
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.equal(await page.inputValue("#link"), LINK);
  assert.equal((await page.textContent("#code")).trim(), FRIEND);
  const wa = await page.getAttribute("a[data-channel=whatsapp]", "href");
  assert.ok(wa.startsWith("https://wa.me/?text=") && decodeURIComponent(wa).includes(`${LINK}?ch=whatsapp`), wa);
  assert.equal(await page.locator(".share a").count(), 6);

  const items = page.locator("ul.list li");
  const text = async (who) => (await items.filter({ hasText: who }).innerText()).replace(/\s+/g, " ");
  assert.match(await text("Dan D."), new RegExp(`rewarded: ${REWARD}`));
  assert.match(await text("Bob M."), new RegExp(`waiting until ${HOLD_EN}`));
  assert.match(await text("Carol L."), /not counted: the order was refunded/);
  assert.match(await text("Marie C."), /not counted: it looks like your own order/);
  assert.equal((await page.textContent("#clicks")).trim(), "2");
  assert.equal((await page.textContent("#ordered")).trim(), "2");
  const rewards = (await page.locator("table").innerText()).replace(/\s+/g, " ");
  assert.ok(rewards.includes(REWARD) && rewards.includes("ready to use") && rewards.includes("€"), rewards);
  const body = await page.locator("body").innerText();
  assert.ok(!body.includes("@example.com"), "no friend's email on the page");

  // The copy button works under the page's CSP.
  await page.click("#copy");
  await page.locator("#copied", { hasText: "Link copied" }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), LINK);
  // Every control is a comfortable tap target.
  for (const b of await page.locator("#copy, .share a").all()) {
    const box = await b.boundingBox();
    assert.ok(box.height >= 44, `tap target ${box.height}px high`);
  }
  await noHorizontalScroll(page);
  assert.deepEqual(page.errors, []);
  await axeCheck(page, "page (en)");
  await page.screenshot({ path: `${OUT}/advocate-en-phone.png`, fullPage: true });
  await page.context().close();
});

test("the same link in French (the browser's language)", async () => {
  const page = await phone("fr-FR");
  await page.goto(PAGE);
  assert.equal(await page.getAttribute("html", "lang"), "fr");
  const items = page.locator("ul.list li");
  const text = async (who) => (await items.filter({ hasText: who }).innerText()).replace(/\s+/g, " ");
  assert.match(await text("Dan D."), new RegExp(`récompensé : ${REWARD}`));
  assert.ok((await text("Bob M.")).includes(`en attente jusqu'au ${HOLD_FR}`), await text("Bob M."));
  assert.match(await text("Carol L."), /non pris en compte : la commande a été remboursée/);
  assert.match(await text("Marie C."), /non pris en compte : il semble que ce soit votre propre commande/);
  assert.equal(await page.textContent("button#copy"), "Copier le lien");
  const rewards = (await page.locator("table").innerText()).replace(/\s+/g, " ");
  assert.ok(rewards.includes("prête à utiliser") && /10\s€/.test(rewards), rewards);
  await noHorizontalScroll(page);
  await axeCheck(page, "page (fr)");
  await page.screenshot({ path: `${OUT}/advocate-fr-phone.png`, fullPage: true });
  await page.context().close();
});

for (const [name, url, status, heading] of [
  ["an expired link", EXPIRED, 410, "This link has expired"],
  ["a tampered link", TAMPERED, 404, "This link does not work"],
]) {
  test(`${name} gets a clear page and no data`, async () => {
    const page = await phone();
    const resp = await page.goto(url);
    assert.equal(resp.status(), status);
    assert.equal((await page.textContent("h1")).trim(), heading);
    const html = await page.content();
    for (const secret of [FRIEND, REWARD, LINK, "Bob", "Dan", "Marie"]) {
      assert.ok(!html.includes(secret), `${name} shows ${secret}`);
    }
    await axeCheck(page, name);
    await page.screenshot({ path: `${OUT}/advocate-${status}.png` });
    await page.context().close();
  });
}

test("a logged-in advocate opens the page through the store's app proxy", async () => {
  const page = await phone();
  await page.goto(`${SIM}/account/login?email=marie@example.com&shop=${SHOP}`);
  const resp = await page.goto(`${SIM}/apps/parrain/advocate`);
  assert.equal(resp.status(), 200);
  assert.ok(page.url().startsWith(`${SIM}/apps/parrain/advocate`), "served on the store's own address");
  const items = page.locator("ul.list li");
  assert.match((await items.filter({ hasText: "Dan D." }).innerText()).replace(/\s+/g, " "), new RegExp(`rewarded: ${REWARD}`));
  assert.equal(await page.inputValue("#link"), LINK);
  await axeCheck(page, "app proxy page");
  await page.screenshot({ path: `${OUT}/advocate-app-proxy.png`, fullPage: true });

  // Someone else logged in on the store sees no page of Marie's.
  const other = await phone();
  await other.goto(`${SIM}/account/login?email=nobody@example.com&shop=${SHOP}`);
  const r2 = await other.goto(`${SIM}/apps/parrain/advocate`);
  assert.equal(r2.status(), 404);
  assert.ok(!(await other.content()).includes(FRIEND));
  await other.context().close();
  await page.context().close();
});
