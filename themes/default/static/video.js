// Click-to-load videos: the poster is this site's own; the player (youtube-nocookie.com or
// Vimeo without tracking) is fetched only when the reader asks for it. Without this script,
// or with a modifier key held, the poster is a plain link to the video.
(function () {
  "use strict";

  var PLAYERS = /^https:\/\/(www\.youtube-nocookie\.com\/embed\/|player\.vimeo\.com\/video\/)[\w-]+(\?[\w=&-]*)?$/;

  document.addEventListener("click", function (event) {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    var link = event.target.closest && event.target.closest("a.video-poster[data-player]");
    if (!link) return;
    var player = link.getAttribute("data-player");
    if (!PLAYERS.test(player)) return;
    event.preventDefault();
    var title = link.querySelector(".video-title");
    var frame = document.createElement("iframe");
    frame.className = "video-frame";
    frame.src = player;
    frame.title = title ? title.textContent.trim() : link.textContent.trim();
    frame.allow = "autoplay; encrypted-media; fullscreen; picture-in-picture";
    frame.allowFullscreen = true;
    frame.referrerPolicy = "strict-origin-when-cross-origin";
    link.replaceWith(frame);
    frame.focus();
  });
})();
