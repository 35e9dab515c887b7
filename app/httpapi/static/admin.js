// Parrain inside the Shopify admin: App Bridge gives a fresh session token
// for every call (shopify.idToken()); the API scopes everything to the
// token's shop. Plain DOM, texts set with textContent only.
(function () {
  "use strict";
  var shop = new URLSearchParams(location.search).get("shop") || "";
  var base = "/api/admin/shops/" + encodeURIComponent(shop);
  var view = document.getElementById("view"), status = document.getElementById("status");

  function api(path, method, body) {
    return shopify.idToken().then(function (tok) {
      return fetch(base + path, {
        method: method || "GET",
        headers: { Authorization: "Bearer " + tok, "Content-Type": "application/json" },
        body: body ? JSON.stringify(body) : undefined,
      });
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error(j.fields ? Object.keys(j.fields).map(function (k) { return k + ": " + j.fields[k]; }).join("; ") : j.error);
        return j;
      });
    });
  }
  function el(tag, text, attrs) {
    var e = document.createElement(tag);
    if (text != null) e.textContent = text;
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }
  function say(msg, bad) {
    status.hidden = false;
    status.textContent = msg;
    status.className = "card " + (bad ? "fail" : "pass");
  }
  function money(minor, cur) { return (minor / 100).toFixed(2) + " " + cur; }

  function queue(flagged) {
    api("/referrals" + (flagged ? "?flagged=1" : "")).then(function (j) {
      view.replaceChildren();
      var h = el("h2", "Referrals"), toggle = el("button", flagged ? "Show all" : "Only flagged or to review", { type: "button" });
      toggle.onclick = function () { queue(!flagged); };
      var t = el("table"), head = el("tr");
      ["Referral", "State", "Order", "Amount", "Advocate", ""].forEach(function (c) { head.appendChild(el("th", c)); });
      t.appendChild(head);
      j.referrals.forEach(function (r) {
        var tr = el("tr");
        [("#" + r.id), r.state + (r.flagged ? " (flagged)" : ""), r.order_name, money(r.total_minor, r.currency), r.advocate_code].forEach(function (c) { tr.appendChild(el("td", c)); });
        var open = el("button", "Open", { type: "button", "aria-label": "Open referral " + r.id });
        open.onclick = function () { detail(r.id); };
        var td = el("td"); td.appendChild(open); tr.appendChild(td);
        t.appendChild(tr);
      });
      view.append(h, toggle, t);
    }).catch(function (e) { say(e.message, true); });
  }

  function detail(id) {
    api("/referrals/" + id).then(function (d) {
      view.replaceChildren();
      view.appendChild(el("h2", "Referral #" + d.id + " — " + d.state));
      view.appendChild(el("p", d.explain));
      var ul = el("ul");
      d.decision.outcomes.forEach(function (o) {
        ul.appendChild(el("li", (o.passed ? "✓ " : "✗ ") + o.rule + (o.passed ? "" : " — " + o.reason), { class: o.passed ? "pass" : "fail" }));
      });
      view.appendChild(ul);
      view.appendChild(el("p", "Order " + d.order_name + ", " + money(d.total_minor, d.currency) + " · advocate " + d.advocate_code +
        " · reward " + (d.reward ? d.reward.Code + " (" + d.reward.State + ")" : "none yet")));
      if (d.state === "pending" || d.state === "needs_review") {
        var ok = el("button", "Approve and reward", { type: "button", class: "primary" });
        ok.onclick = function () { act(id, "approve", {}); };
        var reason = el("input", null, { "aria-label": "Reason for rejecting", placeholder: "reason" });
        var no = el("button", "Reject", { type: "button" });
        no.onclick = function () { act(id, "reject", { reason: reason.value }); };
        view.append(ok, " ", reason, " ", no);
      }
      var back = el("button", "Back to the queue", { type: "button" });
      back.onclick = function () { queue(false); };
      view.append(el("p"), back);
    }).catch(function (e) { say(e.message, true); });
  }

  function act(id, action, body) {
    api("/referrals/" + id + "/" + action, "POST", body).then(function () {
      say("Done: " + action + ".");
      detail(id);
    }).catch(function (e) { say(e.message, true); });
  }

  function settings() {
    api("/program").then(function (p) {
      view.replaceChildren();
      view.appendChild(el("h2", "Offer"));
      var f = el("form");
      var pct = el("input", null, { id: "fp", type: "number", value: p.friend_percent });
      var amt = el("input", null, { id: "ra", value: (p.reward_amount_minor / 100).toFixed(2) });
      var hold = el("input", null, { id: "hd", type: "number", value: p.holding_days });
      f.append(el("label", "Friend's discount (%)", { for: "fp" }), pct, el("label", "Referrer's reward (" + p.currency + ")", { for: "ra" }), amt,
        el("label", "Holding period (days)", { for: "hd" }), hold, el("p"), el("button", "Save", { class: "primary" }));
      f.onsubmit = function (e) {
        e.preventDefault();
        api("/program", "PUT", {
          friend_percent: Number(pct.value), reward_amount_minor: Math.round(Number(amt.value) * 100), holding_days: Number(hold.value),
        }).then(function () { say("Offer saved."); }).catch(function (e) { say(e.message, true); });
      };
      view.appendChild(f);
    }).catch(function (e) { say(e.message, true); });
  }

  document.querySelectorAll("nav button").forEach(function (b) {
    b.onclick = function () {
      document.querySelectorAll("nav button").forEach(function (x) { x.setAttribute("aria-pressed", String(x === b)); });
      status.hidden = true;
      b.dataset.view === "queue" ? queue(false) : settings();
    };
  });
  queue(false);
})();
