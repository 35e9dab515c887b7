// Parrain's public URL (the server's APP_URL), without a trailing slash.
// Set it before `shopify app deploy`: the extension runs on Shopify's CDN and
// calls POST {APP_URL}/api/widget/session directly (network_access).
export const APP_URL = "https://parrain.example.com";
