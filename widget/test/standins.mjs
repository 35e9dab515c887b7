// Stand-ins for Shopify's scripts, which cannot be fetched here: App Bridge
// gives the page what the real one gives it (a session token signed with
// the app secret, minted by the simulator as Shopify would; toasts,
// recorded in window.__toasts; the shop in shopify.config), and Polaris
// registers nothing (the pages must read well without it).
export async function standInShopify(ctx, { shop, token, appBridge = true }) {
  await ctx.route("https://cdn.shopify.com/shopifycloud/app-bridge.js", (route) =>
    appBridge
      ? route.fulfill({
          contentType: "text/javascript",
          body: `window.__toasts = []; window.shopify = { config: { shop: ${JSON.stringify(shop)} },
            idToken: () => Promise.resolve(${JSON.stringify(token)}),
            toast: { show: (message, opts) => { window.__toasts.push({ message, isError: !!(opts && opts.isError) }); return "t" + window.__toasts.length; }, hide() {} } };`,
        })
      : route.abort());
  await ctx.route("https://cdn.shopify.com/shopifycloud/polaris*.js", (route) =>
    route.fulfill({ contentType: "text/javascript", body: "/* Polaris stand-in */" }));
}

// embeddedURL is the app's page as the admin frames it.
export function embeddedURL(app, shop, page) {
  const [path, query] = page.split("?");
  return `${app}/shopify/admin/${path}?${query ? query + "&" : ""}shop=${shop}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvdGVzdA&embedded=1`;
}

// shown waits until the embedded shell shows a page.
export async function shown(page) {
  await page.locator("#app[aria-busy=false] h1").first().waitFor();
}
