// Liveblog embeds for other sites' pages: sizes each iframe of ours to its content.
//
//   <iframe src="https://<this site>/<slug>/embed" data-liveblog-embed></iframe>
//   <script async src="https://<this site>/embed.js"></script>
//
// (the html of our oEmbed answers, and what a newsroom may write by hand for a teaser).
// Each such iframe is said hello to once it loads; the page inside (framed.js) answers
// to this page's origin with its height. A message counts only if it comes from this
// script's own origin and from one of those iframes' windows, and holds a height, which
// goes no further than the iframe's style (up to its data-max-height, when the page set
// one). Included twice, the script adopts the new iframes and does nothing else. No
// dependencies; runs under a strict CSP.
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !window.URL || !window.postMessage) return;
  var ORIGIN = new URL(script.src, window.location.href).origin;
  var LIMIT = 100000; // pixels: beyond any real page, short of what breaks a layout
  var key = "liveblogEmbeds:" + ORIGIN;
  if (window[key]) {
    window[key]();
    return;
  }
  var frames = [];

  function ours(frame) {
    try {
      return new URL(frame.src, window.location.href).origin === ORIGIN;
    } catch (error) {
      return false;
    }
  }

  // Not while the iframe still holds its initial about:blank (which the browser would
  // refuse the message, loudly); addressed to ORIGIN, so no other page can receive it.
  function hello(frame) {
    var blank = frame.contentDocument && frame.contentDocument.URL === "about:blank";
    if (frame.contentWindow && !blank) frame.contentWindow.postMessage({ type: "liveblog:embed-hello" }, ORIGIN);
  }

  function adopt() {
    var found = document.querySelectorAll("iframe[data-liveblog-embed]");
    for (var i = 0; i < found.length; i++) {
      var frame = found[i];
      if (frames.indexOf(frame) >= 0 || !ours(frame)) continue;
      frames.push(frame);
      frame.addEventListener("load", hello.bind(null, frame));
      hello(frame);
    }
  }

  function resize(frame, height) {
    var most = parseInt(frame.getAttribute("data-max-height"), 10);
    frame.style.height = Math.min(Math.ceil(height), most > 0 ? most : LIMIT) + "px";
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== ORIGIN || !data || data.type !== "liveblog:embed-height") return;
    if (typeof data.height !== "number" || !(data.height >= 0 && data.height <= LIMIT)) return;
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) resize(frames[i], data.height);
    }
  });
  window[key] = adopt;
  adopt();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", adopt);
})();
