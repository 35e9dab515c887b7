// Parrain popup: asks the app for the order's referral offer and shows it
// in a modal dialog inside a Shadow DOM, so the host page's CSS cannot
// reach it. Texts, links and colours all come from the API; this script
// only renders, and never throws into the host page.
(function (d, w) {
  // Loaded by the loader, or directly by the Shopify theme app embed (the
  // launcher, which talks to the app through the store's app proxy).
  var s = d.currentScript, P = w.__parrain || (w.__parrain = { c: (s && s.dataset) || {}, base: "" });
  if (P.on) return;
  P.on = 1;
  var c = P.c, data, host, root, inp, stat, prev;
  var KEY = "parrain:closed:" + (c.shop || "");

  function el(tag, attrs, text, parent) {
    var e = d.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  // session asks for the popup; 202 means the order is not processed yet:
  // ask again with backoff (0.5, 1, 2, 4, 8 s), then give up quietly.
  function session(n) {
    var url = c.proxy ? c.proxy + "/widget/session" : P.base + "/api/widget/session";
    // The loader's request, already on its way, is the first attempt.
    var q = !n && P.q;
    P.q = 0;
    (q || fetch(url, {
      method: "POST",
      // text/plain keeps this a simple request: no CORS preflight.
      headers: { "Content-Type": "text/plain" },
      credentials: c.proxy ? "same-origin" : "omit",
      body: JSON.stringify({
        shop: c.shop, order_id: c.orderId, email: c.email, order_key: c.orderKey, platform: c.platform,
        langs: [c.lang, d.documentElement.lang].concat(navigator.languages || [])
      })
    })).then(function (r) {
      if (r.status == 202 && n < 5) return setTimeout(function () { session(n + 1); }, 500 << n);
      if (r.status == 200) return r.json().then(ready);
    }).catch(function () {});
  }

  function ready(j) {
    data = j;
    // Delegated: the page's buttons may not be parsed yet.
    d.addEventListener("click", function (e) {
      if (e.target.closest && e.target.closest("[data-parrain-open]")) open();
    });
    if (c.launcher && j.launcher) launcher();
    if (!P.capped && !c.launcher && c.auto != "0") open();
  }

  function launcher() {
    var h = el("parrain-launcher", {}, "", d.body), r = h.attachShadow({ mode: "open" });
    el("style", {}, ":host{all:initial!important}button{position:fixed;bottom:20px;" + (c.launcher == "bottom-left" ? "left" : "right") +
      ":20px;z-index:2147483646;font:600 15px system-ui,sans-serif;padding:12px 18px;border:0;border-radius:24px;cursor:pointer;background:" +
      data.theme.accent + ";color:#fff;box-shadow:0 2px 8px #0004}button:focus-visible{outline:3px solid #000;outline-offset:2px}", r);
    el("button", { type: "button" }, data.texts.launcher, r).onclick = open;
  }

  var CSS =
    ":host{all:initial!important}" +
    "*{box-sizing:border-box;font:inherit;color:inherit;margin:0}" +
    ".bd{position:fixed;inset:0;background:#0008;z-index:2147483646}" +
    ".dlg{position:fixed;z-index:2147483647;width:min(26rem,calc(100vw - 2rem));max-height:calc(100vh - 2rem);overflow:auto;" +
    "font:16px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;background:var(--b);color:var(--f);" +
    "border-radius:14px;padding:1.5rem;box-shadow:0 12px 40px #0005;animation:in .2s ease-out;text-align:left}" +
    ".center{top:50%;left:50%;transform:translate(-50%,-50%)}.bottom-right{bottom:1rem;right:1rem}.bottom-left{bottom:1rem;left:1rem}" +
    "h2{font-size:1.35rem;font-weight:700;line-height:1.25;margin:0 2rem .5rem 0}" +
    "p{margin:.5rem 0}label{display:block;font-size:.85rem;font-weight:600;margin-top:1rem}" +
    ".row{display:flex;gap:.5rem;margin-top:.3rem}" +
    "input{flex:1;min-width:0;font-size:.9rem;padding:.55rem .6rem;border:1px solid #8889;border-radius:8px;background:#fff;color:#111}" +
    "button,a{cursor:pointer;border-radius:8px;text-decoration:none;font-weight:600}" +
    ".cp{background:var(--a);color:#fff;border:0;padding:.55rem .9rem;white-space:nowrap}" +
    ".code{font-family:ui-monospace,Menlo,monospace;font-weight:700;letter-spacing:.04em}" +
    ".st{min-height:1.2em;font-size:.85rem;margin:.25rem 0}" +
    "ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4rem;margin:.4rem 0 0}" +
    "li a{display:inline-block;padding:.4rem .7rem;border:1px solid var(--a);color:var(--a);font-size:.9rem}" +
    ".tm{font-size:.78rem;opacity:.8;margin-top:1rem}" +
    ".no{background:none;border:0;padding:.4rem 0;text-decoration:underline;font-weight:400;font-size:.9rem}" +
    ".x{position:absolute;top:.6rem;right:.6rem;width:2.2rem;height:2.2rem;border:0;background:none;font-size:1.5rem;line-height:1}" +
    ":focus-visible{outline:3px solid var(--a);outline-offset:2px}" +
    "@media(max-width:480px){.dlg{top:auto;bottom:0;left:0;right:0;width:100%;transform:none;border-radius:14px 14px 0 0}}" +
    "@keyframes in{from{opacity:0}}" +
    ".cmp{font-weight:600;margin:0 0 .3em}" +
    "@media(prefers-reduced-motion:reduce){.dlg{animation:none}}";

  function open() {
    if (host || !data) return;
    var t = data.texts, th = data.theme;
    // Remember what had focus, inside shadow roots too (the launcher).
    for (prev = d.activeElement; prev && prev.shadowRoot && prev.shadowRoot.activeElement; ) prev = prev.shadowRoot.activeElement;
    host = el("parrain-popup", {}, "", d.body);
    root = host.attachShadow({ mode: "open" });
    el("style", {}, CSS, root);
    el("div", { class: "bd" }, "", root).onclick = close;
    var g = el("div", {
      class: "dlg " + (th.position || "center"), role: "dialog", "aria-modal": "true",
      "aria-labelledby": "pt", "aria-describedby": "pd", lang: data.lang,
      style: "--a:" + th.accent + ";--b:" + th.background + ";--f:" + th.text
    }, "", root);
    // A campaign running ("Double rewards — until 31 December").
    if (data.campaign) el("p", { id: "pc", class: "cmp" }, data.campaign, g);
    el("h2", { id: "pt" }, t.title, g);
    el("p", { id: "pd" }, t.offer, g);
    el("label", { for: "pl" }, t.link_label, g);
    var row = el("div", { class: "row" }, "", g);
    inp = el("input", { id: "pl", readonly: "", value: data.link }, "", row);
    el("button", { type: "button", class: "cp" }, t.copy, row).onclick = copy;
    stat = el("p", { class: "st", role: "status", "aria-live": "polite" }, "", g);
    var p = el("p", {}, t.code_label + " ", g);
    el("span", { class: "code" }, data.code, p);
    el("p", {}, t.share_label, g);
    var ul = el("ul", {}, "", g);
    data.share.forEach(function (s) {
      if (/^(https:|mailto:|sms:|fb-messenger:)/.test(s.url))
        el("a", { href: s.url, target: "_blank", rel: "noopener", "data-ch": s.channel }, s.label, el("li", {}, "", ul));
    });
    el("p", { class: "tm" }, t.terms, g);
    el("button", { type: "button", class: "no" }, t.no_thanks, g).onclick = close;
    el("button", { type: "button", class: "x", "aria-label": t.close }, "\u00d7", g).onclick = close;
    root.addEventListener("keydown", key);
    inp.onfocus = function () { inp.select(); };
    g.querySelector(".cp").focus();
  }

  function key(e) {
    if (e.key == "Escape") return close();
    if (e.key != "Tab") return;
    // Keep focus inside the dialog: wrap at both ends.
    var f = root.querySelectorAll("input,button,a[href]"), a = root.activeElement;
    var first = f[0], last = f[f.length - 1];
    if (e.shiftKey ? a == first || !a : a == last || !a) {
      e.preventDefault();
      (e.shiftKey ? last : first).focus();
    }
  }

  function close() {
    if (!host) return;
    host.remove();
    host = root = null;
    try {
      if (data.cap_days > 0) w.localStorage.setItem(KEY, Date.now() + data.cap_days * 864e5);
    } catch (e) {}
    P.capped = true;
    if (prev && prev.focus) prev.focus();
  }

  // copy uses the Clipboard API; where it is refused, the old
  // execCommand; where that fails too, it selects the link and says how.
  function copy() {
    var ok = function () { stat.textContent = data.texts.copied; };
    var legacy = function () {
      inp.focus();
      inp.select();
      var done = false;
      try { done = d.execCommand("copy"); } catch (e) {}
      stat.textContent = done ? data.texts.copied : data.texts.copy_manual;
    };
    try {
      navigator.clipboard.writeText(data.link).then(ok, legacy);
    } catch (e) {
      legacy();
    }
  }

  try {
    // The console's preview hands the content over directly.
    P.data ? ready(P.data) : session(0);
  } catch (e) {}
})(document, window);
