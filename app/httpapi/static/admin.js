// Parrain inside the Shopify admin. The pages are the console's own,
// rendered by the server: this shell fetches each one with App Bridge's
// session token (Authorization: Bearer, a fresh token per request) and
// shows its <main> here, keeps the address in step (history.pushState,
// which App Bridge mirrors in the admin's address bar), fills the admin's
// title bar and shows confirmations as admin toasts. Links and forms of the
// pages are intercepted and sent the same way; the popup preview's frame is
// fetched the same way too. Shopify documents this pattern for
// server-rendered apps (fetch with the token, swap the page in).
(function () {
  "use strict";
  var SHELL = "/shopify/admin";
  // Query parameters the admin adds to the app's URL; they are the shell's,
  // not the page's.
  var ADMIN_PARAMS = ["shop", "host", "embedded", "id_token", "hmac", "timestamp", "session", "locale", "prefetch"];
  var params = new URLSearchParams(location.search);
  var app = document.getElementById("app"), outside = document.getElementById("outside");
  var titlebar = document.getElementById("titlebar");
  var bridge = window.shopify;
  var shop = params.get("shop") || (bridge && bridge.config && bridge.config.shop) || "";
  var host = params.get("host") || "";
  var base = "/console/shops/" + encodeURIComponent(shop);
  var loading = 0;
  // The page's words in the viewer's language (app/i18n, set by the shell).
  var W = window.__parrainWords || {};
  function say(key, fallback, arg) {
    var s = W[key] || fallback;
    return arg === undefined ? s : s.replace("%s", arg);
  }

  function showOutside(why) {
    app.hidden = true;
    app.setAttribute("aria-busy", "false");
    outside.hidden = false;
    if (why) document.getElementById("outside-why").textContent = why;
  }

  function toast(msg, isError) {
    if (bridge && bridge.toast) bridge.toast.show(msg, { isError: !!isError, duration: isError ? 8000 : 4000 });
  }

  // token asks App Bridge for a fresh session token; App Bridge that never
  // answers means the page is not inside the admin.
  function token() {
    return Promise.race([
      bridge.idToken(),
      new Promise(function (_, reject) { setTimeout(function () { reject(new Error("timeout")); }, 8000); }),
    ]);
  }

  function authFetch(url, init) {
    init = init || {};
    return token().then(function (t) {
      init.headers = Object.assign({ Authorization: "Bearer " + t }, init.headers || {});
      return fetch(url, init);
    });
  }

  // consoleURL maps an address of the shell (/shopify/admin/queue?…) or of
  // the console (/console/shops/{shop}/queue?…) to the console page.
  function consoleURL(href) {
    var u = new URL(href, location.href);
    if (u.origin !== location.origin) return null;
    var path = u.pathname;
    if (path === SHELL || path === SHELL + "/") path = SHELL + "/setup";
    if (path.indexOf(SHELL + "/") === 0) path = base + path.slice(SHELL.length);
    else if (path.indexOf(base + "/") !== 0) return null;
    ADMIN_PARAMS.forEach(function (p) { u.searchParams.delete(p); });
    var q = u.searchParams.toString();
    return path + (q ? "?" + q : "");
  }

  // shellURL is the address shown for a console page: the shell's path,
  // the page's query and the admin's shop and host (so a reload works).
  function shellURL(consolePath) {
    var u = new URL(consolePath, location.origin);
    var q = new URLSearchParams(u.search);
    q.delete("done");
    q.delete("error");
    if (shop) q.set("shop", shop);
    if (host) q.set("host", host);
    return SHELL + u.pathname.slice(base.length) + "?" + q.toString();
  }

  function load(path, init, push) {
    var mine = ++loading;
    app.setAttribute("aria-busy", "true");
    init = init || {};
    init.headers = Object.assign({ Accept: "text/html" }, init.headers || {});
    return authFetch(path, init).then(function (r) {
      if (mine !== loading) return;
      var type = r.headers.get("Content-Type") || "";
      if (type.indexOf("text/html") !== 0) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          var msg = j.error || say("js.open_failed", "Parrain could not open this page (%s).", r.status);
          app.setAttribute("aria-busy", "false");
          showError(msg);
        });
      }
      return r.text().then(function (html) {
        if (mine !== loading) return;
        var landed = new URL(r.url, location.origin);
        var here = (consoleURL(location.href) || "").split("?")[0];
        show(html, landed.pathname + landed.search);
        // A form posted on a page that comes back to the same page (an
        // action on a referral, saved settings) replaces the entry, so Back
        // leaves the page instead of showing it again.
        if (push === "post" && landed.pathname === here) push = false;
        if (push !== false) history.pushState(null, "", shellURL(landed.pathname + landed.search));
        else history.replaceState(null, "", shellURL(landed.pathname + landed.search));
        var done = landed.searchParams.get("done"), err = landed.searchParams.get("error");
        if (done) toast(done);
        if (err) toast(err, true);
        if (r.status === 400) toast(say("js.not_saved", "Not saved: see the fields marked on the page."), true);
      });
    }).catch(function (e) {
      if (e && e.message === "timeout") showOutside();
      else showError(say("js.unreachable_why", "Parrain could not be reached: %s. Try again.", (e && e.message ? e.message : e)));
    });
  }

  function showError(msg) {
    var p = document.createElement("p");
    p.className = "card err";
    p.setAttribute("role", "alert");
    p.textContent = msg;
    app.prepend(p);
    toast(msg, true);
  }

  // show puts the page's <main> here and runs its scripts.
  function show(html, path) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var main = doc.querySelector("main");
    if (!main) return showError(say("js.empty", "Parrain answered an empty page."));
    if (doc.documentElement.lang) document.documentElement.lang = doc.documentElement.lang;
    main.querySelectorAll("iframe[src]").forEach(function (f) {
      f.setAttribute("data-src", f.getAttribute("src"));
      f.removeAttribute("src");
      f.setAttribute("srcdoc", "");
    });
    app.replaceChildren.apply(app, Array.prototype.slice.call(main.childNodes).map(function (n) { return document.adoptNode(n); }));
    app.querySelectorAll("script").forEach(function (old) {
      var s = document.createElement("script");
      if (old.src) s.src = old.src;
      s.textContent = old.textContent;
      old.replaceWith(s);
    });
    app.querySelectorAll("iframe[data-src]").forEach(watchFrame);
    var title = doc.title.replace(/ · Parrain$/, "") || "Parrain";
    document.title = title + " · Parrain";
    app.setAttribute("aria-busy", "false");
    titleBar(title, path);
    var h = app.querySelector("h1");
    if (h) {
      h.tabIndex = -1;
      if (document.activeElement && document.activeElement !== document.body && !app.contains(document.activeElement)) h.focus();
    }
  }

  // watchFrame fills a console iframe (the popup preview) with its page,
  // fetched with the token, and again whenever the page's own script
  // points it elsewhere.
  function watchFrame(f) {
    function fill(src) {
      var path = consoleURL(src);
      if (!path) return;
      authFetch(path).then(function (r) { return r.text(); }).then(function (html) { f.srcdoc = html; });
    }
    fill(f.getAttribute("data-src"));
    new MutationObserver(function () {
      var src = f.getAttribute("src");
      if (!src) return;
      f.removeAttribute("src");
      fill(src);
    }).observe(f, { attributes: true, attributeFilter: ["src"] });
  }

  // titleBar gives the admin's title bar the page's title and actions: the
  // settings form's Save, the dashboard's exports.
  function titleBar(title, path) {
    if (!titlebar) return;
    titlebar.setAttribute("title", title);
    titlebar.replaceChildren();
    var form = app.querySelector("form#settings");
    if (form && form.querySelector("button")) {
      var save = document.createElement("button");
      save.setAttribute("variant", "primary");
      save.textContent = say("set.save", "Save");
      save.addEventListener("click", function () { form.requestSubmit(); });
      titlebar.appendChild(save);
    }
    app.querySelectorAll('a[href*="/export/"]').forEach(function (a) {
      var b = document.createElement("button");
      b.textContent = a.textContent;
      b.addEventListener("click", function () { download(a.href); });
      titlebar.appendChild(b);
    });
    if (path.indexOf(base + "/referrals/") === 0) {
      var back = document.createElement("button");
      back.setAttribute("variant", "breadcrumb");
      back.textContent = say("nav.queue", "Review queue");
      back.addEventListener("click", function () { load(base + "/queue"); });
      titlebar.appendChild(back);
    }
  }

  // download saves an export: fetched with the token, handed to the
  // browser as a file.
  function download(href) {
    var path = consoleURL(href);
    authFetch(path).then(function (r) {
      if (!r.ok) throw new Error("export failed (" + r.status + ")");
      var name = /filename="([^"]+)"/.exec(r.headers.get("Content-Disposition") || "");
      return r.blob().then(function (b) {
        var a = document.createElement("a");
        a.href = URL.createObjectURL(b);
        a.download = name ? name[1] : "export.csv";
        document.body.appendChild(a);
        a.click();
        a.remove();
        toast(say("js.exported", "Export downloaded."));
      });
    }).catch(function (e) { toast(e.message, true); });
  }

  document.addEventListener("click", function (e) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    var a = e.target.closest && e.target.closest("a[href]");
    if (!a || !app.contains(a) || (a.target && a.target !== "_self") || a.hasAttribute("download")) return;
    var path = consoleURL(a.href);
    if (!path) return;
    e.preventDefault();
    if (path.indexOf("/export/") > 0) download(a.href);
    else load(path);
  });

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!app.contains(form)) return;
    var path = consoleURL(form.getAttribute("action") ? form.action : location.href);
    if (!path) return;
    e.preventDefault();
    var data = new FormData(form, e.submitter || undefined);
    data.delete("csrf"); // the token proves the request; no cookie, no CSRF
    var body = new URLSearchParams(data);
    if ((form.method || "get").toLowerCase() === "get") {
      load(path.split("?")[0] + "?" + body.toString());
    } else {
      load(path, { method: "POST", body: body, headers: { "Content-Type": "application/x-www-form-urlencoded" } }, "post");
    }
  });

  window.addEventListener("popstate", function () {
    var path = consoleURL(location.href);
    if (path) load(path, null, false);
  });

  if (!bridge || typeof bridge.idToken !== "function" || !shop) {
    showOutside();
    return;
  }
  // The first call registers the shop if Shopify installed the app without
  // Parrain seeing it yet (managed install: token exchange), then the page.
  authFetch("/api/shopify/session").then(function (r) {
    if (!r.ok) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        app.setAttribute("aria-busy", "false");
        app.replaceChildren();
        showError(j.error || say("js.shop_failed", "Parrain could not open your shop (%s).", r.status));
      });
    }
    return load(consoleURL(location.href), null, false);
  }).catch(function (e) {
    if (e && e.message === "timeout") showOutside();
    else showError(say("js.unreachable", "Parrain could not be reached. Try again."));
  });
})();
