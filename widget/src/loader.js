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
      w.__parrain = { base: s.src.replace(/\/widget\/[^\/]*$/, ""), c: c, capped: capped };
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
