// Types of the `shopify` global for each module a target runs, in the form
// Shopify CLI generates (and may regenerate) for `shopify app dev/deploy`.
// Only ./src/ThankYou.tsx uses it; ./src/api.ts stays independent of it.
import '@shopify/ui-extensions';

//@ts-ignore
declare module './src/ThankYou.tsx' {
  const shopify: import('@shopify/ui-extensions/purchase.thank-you.block.render').Api;
  const globalThis: { shopify: typeof shopify };
}
