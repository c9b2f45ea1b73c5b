// "Last updated 12 minutes ago": the server writes the absolute time of the blog's last
// change (right however long a cache keeps the page); this words it relative to now, in
// the page's language, again as time passes and whenever live.js moves it.
(function () {
  "use strict";

  var time = document.querySelector(".blog-updated-time");
  if (!time || !window.Intl || !Intl.RelativeTimeFormat || !window.MutationObserver) return;

  var UNITS = [
    ["year", 365 * 86400],
    ["month", 30 * 86400],
    ["week", 7 * 86400],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60]
  ];
  var words = new Intl.RelativeTimeFormat(document.documentElement.lang || undefined, { numeric: "auto" });

  function relative(seconds) {
    for (var i = 0; i < UNITS.length; i++) {
      if (Math.abs(seconds) >= UNITS[i][1]) return words.format(Math.round(seconds / UNITS[i][1]), UNITS[i][0]);
    }
    return words.format(0, "second");
  }

  function render() {
    var moment = Date.parse(time.getAttribute("datetime"));
    if (isNaN(moment)) return;
    // A clock a little ahead of the server's must not say "in 1 minute".
    time.textContent = relative(Math.min(0, (moment - Date.now()) / 1000));
  }

  render();
  new MutationObserver(render).observe(time, { attributes: true, attributeFilter: ["datetime"] });
  window.setInterval(render, 15000);
})();
