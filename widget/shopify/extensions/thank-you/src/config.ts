// The public URL of your Parrain (its APP_URL). Set it before
// `shopify app deploy`: the extension runs on Shopify's CDN and calls it
// directly (network_access).
export const APP_URL = "https://parrain.example.com";
