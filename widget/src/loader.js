// Parrain loader: the stable, short-cached URL store pages include. It
// reads the page's data-* settings, skips everything while the shopper's
// "no thanks" lasts, and loads the versioned popup script. It must never
// throw into the host page.
(function (d, w) {
  try {
    var s = d.currentScript, c = (s && s.dataset) || {}, until = 0;
    try {
      until = +w.localStorage.getItem("parrain:closed:" + (c.shop || "")) || 0;
    } catch (e) {} // storage refused (private mode, sandboxed frame)
    var capped = Date.now() < until;
    var go = function () {
      // A page with its own "refer a friend" button still gets the popup
      // code, but it will not open by itself.
      if (capped && !c.launcher && !d.querySelector("[data-parrain-open]")) return;
      var P = (w.__parrain = { base: s.src.replace(/\/widget\/[^\/]*$/, ""), c: c, capped: capped });
      // Ask for the session now, while the popup script downloads: one
      // round trip before the popup can paint instead of two in a row.
      // popup.js takes this answer for its first attempt.
      P.q = fetch(P.base + "/api/widget/session", {
        method: "POST",
        headers: { "Content-Type": "text/plain" },
        credentials: "omit",
        body: JSON.stringify({
          shop: c.shop, order_id: c.orderId, email: c.email, order_key: c.orderKey, platform: c.platform,
          langs: [c.lang, d.documentElement.lang].concat(navigator.languages || [])
        })
      });
      P.q.catch(function () {});
      var e = d.createElement("script");
      e.async = true;
      e.src = w.__parrain.base + "/widget/__POPUP__";
      d.head.appendChild(e);
    };
    // An async script can run before the page's body is parsed: look for
    // the page's button once it is.
    capped && d.readyState == "loading" ? d.addEventListener("DOMContentLoaded", go) : go();
  } catch (e) {}
})(document, window);
