// The referral block on Shopify's thank-you page, where remote scripts no
// longer run: the same content as widget.js, from the same API, shown with
// Polaris web components.
import "@shopify/ui-extensions/preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { Api } from "@shopify/ui-extensions/purchase.thank-you.block.render";

import { fetchContent, type Content } from "./api";
import { APP_URL } from "./config";

// shopify is the extension API Shopify puts on the global object.
const api = (globalThis as unknown as { shopify: Api }).shopify;

export default async () => {
  render(<Referral />, document.body);
};

function Referral() {
  const [content, setContent] = useState<Content | null>(null);
  useEffect(() => {
    const order = api.orderConfirmation.value.order.id;
    const lang = api.localization.language.value.isoCode;
    fetchContent(APP_URL, () => api.sessionToken.get(), order, lang).then(setContent);
  }, []);
  if (!content) return null;
  const t = content.texts;
  return (
    <s-section heading={t.title}>
      <s-stack gap="base">
        <s-paragraph>{t.offer}</s-paragraph>
        <s-text-field label={t.link_label} value={content.link} readOnly />
        <s-clipboard-item id="parrain-link" text={content.link} />
        <s-button commandFor="parrain-link">{t.copy}</s-button>
        <s-paragraph>
          {t.code_label} <s-text type="strong">{content.code}</s-text>
        </s-paragraph>
        <s-stack direction="inline" gap="small-200">
          {content.share.map((s) => (
            <s-link key={s.channel} href={s.url} target="_blank">
              {s.label}
            </s-link>
          ))}
        </s-stack>
        <s-text color="subdued">{t.terms}</s-text>
      </s-stack>
    </s-section>
  );
}
