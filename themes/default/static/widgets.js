// Only on blogs that opted in (embed_widgets): quoted posts are enhanced with their provider's
// own widget script. The snapshot markup stays underneath, and stays alone if a script fails.
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !window.JSON || !window.Promise) return;
  var scripts;
  try {
    scripts = JSON.parse(script.getAttribute("data-widgets")) || {};
  } catch (error) {
    return;
  }
  var loading = {};

  function load(src) {
    if (!loading[src]) {
      loading[src] = new Promise(function (resolve, reject) {
        var node = document.createElement("script");
        node.src = src;
        node.async = true;
        node.onload = resolve;
        node.onerror = reject;
        document.head.appendChild(node);
      });
    }
    return loading[src];
  }

  // Each provider's script finds posts by its own class and attributes, set here so that the
  // stored markup (also in feeds) stays plain. Each returns what to run once the script is in.
  var PROVIDERS = {
    x: function (figure, quote, url) {
      var id = (url.match(/\/status\/(\d+)/) || [])[1];
      if (!id) return null;
      return function () {
        if (!window.twttr || !window.twttr.widgets) return;
        var holder = document.createElement("div");
        holder.className = "social-widget";
        figure.insertBefore(holder, quote);
        window.twttr.widgets.createTweet(id, holder, { dnt: true }).then(function (widget) {
          if (widget) figure.classList.add("social-widget-shown");
          else holder.remove();
        });
      };
    },
    bluesky: function (figure, quote, url) {
      var found = url.match(/\/profile\/([^/?#]+)\/post\/([^/?#]+)/);
      if (!found) return null;
      quote.classList.add("bluesky-embed");
      quote.setAttribute("data-bluesky-uri", "at://" + found[1] + "/app.bsky.feed.post/" + found[2]);
      return function () {
        if (window.bluesky && window.bluesky.scan) window.bluesky.scan();
      };
    },
    instagram: function (figure, quote, url) {
      quote.classList.add("instagram-media");
      quote.setAttribute("data-instgrm-permalink", url);
      quote.setAttribute("data-instgrm-version", "14");
      return function () {
        if (window.instgrm && window.instgrm.Embeds) window.instgrm.Embeds.process();
      };
    },
    threads: function (figure, quote, url) {
      quote.classList.add("text-post-media");
      quote.setAttribute("data-text-post-permalink", url);
      quote.setAttribute("data-text-post-version", "0");
      return function () {};
    },
    mastodon: function (figure, quote, url) {
      quote.classList.add("mastodon-embed");
      quote.setAttribute("data-embed-url", url.split(/[?#]/)[0].replace(/\/$/, "") + "/embed");
      return function () {};
    }
  };

  function enhance(figure) {
    if (figure.getAttribute("data-widget-state")) return;
    figure.setAttribute("data-widget-state", "started");
    var key = (figure.className.match(/\bblock-social-([a-z]+)\b/) || [])[1];
    var quote = figure.querySelector("blockquote[cite]");
    if (!quote || !PROVIDERS[key] || !scripts[key]) return;
    var url = quote.getAttribute("cite");
    var host;
    try {
      host = new URL(url).host;
    } catch (error) {
      return;
    }
    var after = PROVIDERS[key](figure, quote, url);
    if (!after) return;
    load(scripts[key].replace("{host}", host)).then(after, function () {
      figure.setAttribute("data-widget-state", "failed");
    });
  }

  function scan(root) {
    if (!root.querySelectorAll) return;
    if (root.matches && root.matches(".block-social")) enhance(root);
    Array.prototype.forEach.call(root.querySelectorAll(".block-social"), enhance);
  }

  scan(document);
  // Updates inserted by the live page get their widgets too.
  if (window.MutationObserver) {
    new MutationObserver(function (records) {
      records.forEach(function (record) {
        Array.prototype.forEach.call(record.addedNodes, function (node) {
          if (node.nodeType === 1) scan(node);
        });
      });
    }).observe(document.body || document.documentElement, { childList: true, subtree: true });
  }
})();
