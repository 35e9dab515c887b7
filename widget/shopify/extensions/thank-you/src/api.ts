// Parrain's widget API as the thank-you block calls it:
//   POST {APP_URL}/api/widget/session
//   Authorization: Bearer <checkout session token>
//   {"order_id": "gid://shopify/Order/123", "confirmation_number": "XPAV284CT", "lang": "fr"}
// A guest buyer's token names no customer: it proves the shop, not the
// order, so the order's confirmation number (which only this buyer's page
// shows) goes with it; without one the API refuses (403).
// 200 → the popup's content; 202 → the order is not processed yet, ask
// again; anything else (403/404/429/5xx, network error, unexpected body) →
// show nothing: the buyer never sees our errors.
//
// Everything here is pure or takes its effects (fetch, sleep, token) as
// arguments, so it does not depend on the extension's `shopify` global.

/** The texts the API sends, already in the buyer's language. */
export interface Texts {
  title: string;
  offer: string;
  link_label: string;
  copy: string;
  copied: string;
  code_label: string;
  share_label: string;
  terms: string;
  no_thanks: string;
  close: string;
}

const TEXT_KEYS = [
  "title",
  "offer",
  "link_label",
  "copy",
  "copied",
  "code_label",
  "share_label",
  "terms",
  "no_thanks",
  "close",
] as const satisfies readonly (keyof Texts)[];

export interface Share {
  channel: string;
  label: string;
  url: string;
}

/** The popup's colours; Polaris components do not take them, kept for completeness. */
export interface Theme {
  accent?: string;
  background?: string;
  text?: string;
  position?: string;
}

/** A 200 answer. */
export interface Content {
  state: "ready";
  lang: string;
  texts: Texts;
  link: string;
  code: string;
  share: Share[];
  theme: Theme;
  cap_days: number;
}

/** What to do with one HTTP answer. */
export type Answer =
  | { kind: "ready"; content: Content }
  | { kind: "pending"; retryAfterMs?: number }
  | { kind: "none" };

/** How many times a 202 is asked again (the storefront popup does the same). */
export const MAX_RETRIES = 5;

type JSONObject = { [key: string]: unknown };

function isObject(v: unknown): v is JSONObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

// Share URLs end up in s-link href: only the schemes the API produces.
const SHARE_SCHEMES = ["https:", "http:", "mailto:", "sms:", "fb-messenger:"];

function safeURL(u: string): boolean {
  const colon = u.indexOf(":");
  return colon > 0 && SHARE_SCHEMES.includes(u.slice(0, colon + 1).toLowerCase());
}

function parseShare(v: unknown): Share | null {
  if (!isObject(v)) return null;
  const s: Share = { channel: str(v.channel), label: str(v.label), url: str(v.url) };
  return s.channel && s.label && safeURL(s.url) ? s : null;
}

/** parseContent checks a 200 body; null when it is not something we can show. */
export function parseContent(body: unknown): Content | null {
  if (!isObject(body) || body.state !== "ready" || !isObject(body.texts)) return null;
  const link = str(body.link);
  if (!/^https?:\/\//i.test(link)) return null;
  const raw = body.texts;
  const texts = {} as Texts;
  for (const k of TEXT_KEYS) texts[k] = str(raw[k]);
  if (!texts.title) return null;
  const theme: Theme = {};
  if (isObject(body.theme)) {
    for (const k of ["accent", "background", "text", "position"] as const) {
      if (typeof body.theme[k] === "string") theme[k] = body.theme[k];
    }
  }
  const share = Array.isArray(body.share)
    ? body.share.map(parseShare).filter((s): s is Share => s !== null)
    : [];
  const cap = body.cap_days;
  return {
    state: "ready",
    lang: str(body.lang),
    texts,
    link,
    code: str(body.code),
    share,
    theme,
    cap_days: typeof cap === "number" && Number.isFinite(cap) ? cap : 0,
  };
}

/** parseAnswer turns an HTTP status and its JSON body (null if none) into what to do next. */
export function parseAnswer(status: number, body: unknown): Answer {
  if (status === 202) {
    const ms = isObject(body) ? body.retry_after_ms : undefined;
    return typeof ms === "number" && Number.isFinite(ms) && ms > 0
      ? { kind: "pending", retryAfterMs: ms }
      : { kind: "pending" };
  }
  if (status !== 200) return { kind: "none" };
  const content = parseContent(body);
  return content ? { kind: "ready", content } : { kind: "none" };
}

/**
 * retryDelay is the wait before retry number `retry` (0-based): the
 * server's retry_after_ms when it gave one (at most 10 s), else 500 ms
 * doubled each time (0.5, 1, 2, 4, 8 s).
 */
export function retryDelay(retry: number, hintMs?: number): number {
  if (hintMs !== undefined && Number.isFinite(hintMs) && hintMs > 0) return Math.min(hintMs, 10_000);
  return Math.min(500 * 2 ** retry, 8_000);
}

export interface SessionRequest {
  /** Parrain's public URL, without a trailing slash. */
  appURL: string;
  /** The order's GID, as shopify.orderConfirmation gives it. */
  orderId: string;
  /** The order's confirmation number (shopify.orderConfirmation.value.number), if any. */
  confirmationNumber?: string;
  /** The buyer's language (BCP-47, e.g. "fr" or "en-US"). */
  lang: string;
  /** A fresh session token for each request (shopify.sessionToken.get). */
  token: () => Promise<string>;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** fetchContent asks until the order is processed; null means render nothing. */
export async function fetchContent(req: SessionRequest): Promise<Content | null> {
  const doFetch = req.fetch ?? fetch;
  const sleep = req.sleep ?? wait;
  const url = `${req.appURL.replace(/\/+$/, "")}/api/widget/session`;
  const body = JSON.stringify({
    order_id: req.orderId,
    confirmation_number: req.confirmationNumber ?? "",
    lang: req.lang,
  });
  for (let retry = 0; ; retry++) {
    let answer: Answer;
    try {
      const res = await doFetch(url, {
        method: "POST",
        headers: { Authorization: `Bearer ${await req.token()}`, "Content-Type": "application/json" },
        body,
      });
      answer = parseAnswer(res.status, await res.json().catch(() => null));
    } catch {
      return null;
    }
    if (answer.kind === "ready") return answer.content;
    if (answer.kind === "none" || retry >= MAX_RETRIES) return null;
    await sleep(retryDelay(retry, answer.retryAfterMs));
  }
}
