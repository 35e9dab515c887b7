// The referral block on Shopify's thank-you page (purchase.thank-you.block.render),
// where remote scripts no longer run: the same content as the storefront
// popup, from the same API (./api.ts), shown with Polaris web components.
// `shopify` is the extension API Shopify provides to this module; its type
// comes from ../shopify.d.ts.
import "@shopify/ui-extensions/preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";

import { fetchContent, type Content } from "./api";
import { APP_URL } from "./config";

export default async () => {
  render(<Extension />, document.body);
};

function Extension() {
  const [content, setContent] = useState<Content | null>(null);
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    let live = true;
    fetchContent({
      appURL: APP_URL,
      orderId: shopify.orderConfirmation.value.order.id,
      confirmationNumber: shopify.orderConfirmation.value.number,
      lang: shopify.localization.language.value.isoCode,
      token: () => shopify.sessionToken.get(),
    })
      .then((c) => live && setContent(c))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);

  // Nothing while loading, and nothing when the API says no.
  if (!content) return null;
  const t = content.texts;
  return (
    <s-section>
      <s-stack gap="base">
        <s-heading>{t.title}</s-heading>
        {t.offer && <s-paragraph>{t.offer}</s-paragraph>}
        <s-text-field label={t.link_label || t.title} value={content.link} readOnly />
        <s-clipboard-item
          id="parrain-link"
          text={content.link}
          onCopy={() => setCopied(true)}
        />
        <s-button command="--copy" commandFor="parrain-link">
          {copied && t.copied ? t.copied : t.copy || "Copy"}
        </s-button>
        {content.code && (
          <s-paragraph>
            {t.code_label} <s-text type="strong">{content.code}</s-text>
          </s-paragraph>
        )}
        {content.share.length > 0 && (
          <s-stack gap="small-200">
            {t.share_label && <s-text color="subdued">{t.share_label}</s-text>}
            <s-stack direction="inline" gap="base">
              {content.share.map((s) => (
                <s-link key={s.channel} href={s.url} target="_blank">
                  {s.label}
                </s-link>
              ))}
            </s-stack>
          </s-stack>
        )}
        {t.terms && <s-text color="subdued">{t.terms}</s-text>}
      </s-stack>
    </s-section>
  );
}
