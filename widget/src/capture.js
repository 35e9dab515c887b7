// Parrain storefront capture, loaded on every storefront page (Shopify
// theme app embed, WooCommerce plugin): a landing with ?ref=CODE keeps the
// code in a first-party cookie and writes it to the cart as the parrain_ref
// attribute (it reaches the order as a note attribute), so the referral is
// attributed even when the friend never types the code.
(function (d, w) {
  try {
    var m = /[?&]ref=([A-Za-z0-9-]{3,40})(?:&|$)/.exec(w.location.search), code;
    if (m) {
      code = m[1].toUpperCase();
      d.cookie = "parrain_ref=" + code + ";path=/;max-age=2592000;SameSite=Lax" + (w.location.protocol == "https:" ? ";Secure" : "");
    } else {
      m = /(?:^|;\s*)parrain_ref=([A-Za-z0-9-]{3,40})/.exec(d.cookie);
      code = m && m[1];
    }
    if (!code) return;
    // Once per code and session; a new cart later in the session is
    // covered by the cookie on the next landing.
    var k = "parrain_ref_cart";
    if (w.sessionStorage.getItem(k) == code) return;
    fetch("/cart/update.js", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ attributes: { parrain_ref: code } })
    }).then(function (r) {
      if (r.ok) w.sessionStorage.setItem(k, code);
    }).catch(function () {});
  } catch (e) {}
})(document, window);
