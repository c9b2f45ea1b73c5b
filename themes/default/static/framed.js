// Runs inside the embed pages (/<slug>/embed), in another site's iframe: tells the page
// that framed it how tall the content is, so that its embed.js sizes the iframe to fit.
//
// Nothing is sent before that page says hello (embed.js does, once the iframe loads): its
// origin, which the browser vouches for in the hello, is the only one heights go to. The
// hello must come from the window that framed this one, not from any other. Heights are
// all that is ever sent. No dependencies, no inline code.
(function () {
  "use strict";

  if (window.parent === window || !window.ResizeObserver) return;

  var host = null;
  var sent = null;

  function height() {
    return Math.ceil(document.documentElement.getBoundingClientRect().height);
  }

  function report() {
    var now = height();
    if (host === null || now === sent) return;
    sent = now;
    window.parent.postMessage({ type: "liveblog:embed-height", height: now }, host);
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || !event.data || event.data.type !== "liveblog:embed-hello") return;
    // A sandboxed host has an opaque origin ("null"), which no message can be addressed
    // to: it gets the height through "*", still only into the window that framed us.
    host = event.origin === "null" ? "*" : event.origin;
    sent = null;
    report();
  });
  new ResizeObserver(report).observe(document.documentElement);
})();
