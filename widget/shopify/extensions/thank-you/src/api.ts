// The widget API as the thank-you block calls it: POST /api/widget/session
// with the checkout's session token (Authorization: Bearer) and the order's
// id. 200 → the popup's content, 202 → not processed yet, ask again; any
// other answer → show nothing (the buyer never sees our errors).

export interface Share {
  channel: string;
  label: string;
  url: string;
}

export interface Content {
  state: "ready";
  lang: string;
  texts: Record<string, string>;
  link: string;
  code: string;
  share: Share[];
}

export type Answer =
  | { kind: "ready"; content: Content }
  | { kind: "pending"; retryAfterMs: number }
  | { kind: "none" };

// parseAnswer turns an HTTP answer into what to do next.
export function parseAnswer(status: number, body: unknown): Answer {
  if (status === 202) {
    const ms = (body as { retry_after_ms?: unknown } | null)?.retry_after_ms;
    return { kind: "pending", retryAfterMs: typeof ms === "number" && ms > 0 ? ms : 1000 };
  }
  if (status !== 200 || !isContent(body)) return { kind: "none" };
  return { kind: "ready", content: body };
}

function isContent(b: unknown): b is Content {
  const c = b as Partial<Content> | null;
  return !!c && c.state === "ready" && typeof c.link === "string" && typeof c.code === "string" &&
    Array.isArray(c.share) && typeof c.texts === "object" && c.texts !== null;
}

// retryDelay is the wait before attempt n (0-based): the server's hint,
// doubled each time, at most 8 s.
export function retryDelay(hintMs: number, attempt: number): number {
  return Math.min(hintMs * 2 ** attempt, 8000);
}

export const MAX_ATTEMPTS = 5;

// fetchContent asks until the order is processed, MAX_ATTEMPTS times at most.
export async function fetchContent(
  appURL: string,
  token: () => Promise<string>,
  orderId: string,
  lang: string,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<Content | null> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    let answer: Answer;
    try {
      const res = await fetch(`${appURL}/api/widget/session`, {
        method: "POST",
        headers: { Authorization: `Bearer ${await token()}`, "Content-Type": "application/json" },
        body: JSON.stringify({ order_id: orderId, lang }),
      });
      answer = parseAnswer(res.status, await res.json().catch(() => null));
    } catch {
      return null;
    }
    if (answer.kind === "ready") return answer.content;
    if (answer.kind === "none") return null;
    await sleep(retryDelay(answer.retryAfterMs, attempt));
  }
  return null;
}
