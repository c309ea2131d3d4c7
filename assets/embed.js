// keyturn's embeddable snippet. A merchant pastes
//   <script src="https://SHOP/embed.js" data-service="SLUG" async></script>
// where a Buy button should appear, or marks any link or button of their own with
//   data-keyturn-buy="SLUG"
// and includes the script once. Either opens SHOP/buy/SLUG (new tab or same window, per the
// shop's setting or a data-keyturn-target="new_tab|same_window" attribute). With data-tilda on
// the script tag, Tilda forms get a random keyturn_ref field and their success URL carries it,
// so /forms/tilda/continue finds the order. No inline code, no cookies, nothing sent anywhere.
(function () {
  "use strict";
  // Included twice (a snippet per button)? One click handler is enough: a second one would
  // open every purchase twice. A later tag still gets its own Buy button.
  var again = !!window.__keyturnEmbed;
  window.__keyturnEmbed = true;
  var BASE = "__KEYTURN_BASE__";
  var TARGET = "__KEYTURN_TARGET__";
  var SLUG = /^[A-Za-z0-9_-]{1,64}$/;

  function buyUrl(slug) {
    var lang = (document.documentElement.lang || "").slice(0, 2);
    return BASE + "/buy/" + encodeURIComponent(slug) + (/^[a-z]{2}$/.test(lang) ? "?lang=" + lang : "");
  }

  function open(slug, target) {
    if ((target || TARGET) === "same_window") {
      window.location.assign(buyUrl(slug));
    } else {
      // No "noopener" feature: with it window.open returns null even when the tab opened,
      // and the fallback below would navigate the merchant's page as well.
      var w = window.open(buyUrl(slug), "_blank");
      if (w) {
        w.opener = null;
      } else {
        window.location.assign(buyUrl(slug)); // a blocked pop-up still reaches the page
      }
    }
  }

  // Links of the merchant's own: a real href, so they work before (and without) the script.
  function wire(el) {
    var slug = el.getAttribute("data-keyturn-buy");
    if (!SLUG.test(slug || "") || el.getAttribute("data-keyturn-wired")) return;
    el.setAttribute("data-keyturn-wired", "1");
    if (el.tagName === "A") {
      el.href = buyUrl(slug);
      var target = el.getAttribute("data-keyturn-target") || TARGET;
      if (target !== "same_window") { el.target = "_blank"; el.rel = "noopener"; }
    }
  }

  if (!again) document.addEventListener("click", function (e) {
    var el = e.target && e.target.closest ? e.target.closest("[data-keyturn-buy]") : null;
    if (!el || el.tagName === "A") return; // links navigate by their href
    var slug = el.getAttribute("data-keyturn-buy");
    if (!SLUG.test(slug || "")) return;
    e.preventDefault();
    open(slug, el.getAttribute("data-keyturn-target"));
  });

  function token() {
    var b = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }

  // Tilda forms: a hidden keyturn_ref field, and the same token on the success redirect.
  function tilda(form) {
    if (form.querySelector("input[name=keyturn_ref]")) return;
    var ref = token();
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "keyturn_ref";
    input.value = ref;
    form.appendChild(input);
    var success = form.getAttribute("data-success-url");
    if (success) {
      form.setAttribute("data-success-url", success + (success.indexOf("?") < 0 ? "?" : "&") + "ref=" + ref);
    }
  }

  var me = document.currentScript;
  function scan() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-keyturn-buy]"), wire);
    if (me && me.hasAttribute("data-tilda")) {
      Array.prototype.forEach.call(document.querySelectorAll("form.t-form, form[data-keyturn-tilda]"), tilda);
    }
  }

  // <script data-service="SLUG">: a Buy button right where the script tag is.
  if (me && SLUG.test(me.getAttribute("data-service") || "")) {
    var a = document.createElement("a");
    a.setAttribute("data-keyturn-buy", me.getAttribute("data-service"));
    if (me.getAttribute("data-target")) a.setAttribute("data-keyturn-target", me.getAttribute("data-target"));
    a.className = "keyturn-buy";
    a.textContent = me.getAttribute("data-label") || "Buy";
    a.style.cssText = "display:inline-block;padding:12px 20px;border-radius:6px;background:#1f6feb;color:#fff;" +
      "font:16px/1.2 -apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;text-decoration:none";
    me.parentNode.insertBefore(a, me.nextSibling);
  }
  scan();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  // Site builders render blocks late: look again when the page changes.
  if (window.MutationObserver) new MutationObserver(scan).observe(document.documentElement, { childList: true, subtree: true });
})();
