// Keeps a live page current: new, edited, deleted and pinned updates arrive in place.
// Server-Sent Events first, polling /changes when they fail. No dependencies, no inline code.
// A teaser (data-refresh) is fetched again after each change instead: which updates drop
// out of its few, or come back into them, only the server can say.
(function () {
  "use strict";

  var root = document.querySelector(".live[data-events]");
  if (!root || !window.JSON || !document.querySelector) return;

  var ENTRY_TYPES = ["entry.published", "entry.updated", "entry.deleted", "entry.pinned", "entry.unpinned"];
  var POLL_MS = 5000;
  var MAX_BACKOFF_MS = 30000;
  var seq = parseInt(root.getAttribute("data-seq"), 10) || 0;
  var refresh = root.getAttribute("data-refresh");
  var refreshing = false;
  var refreshAgain = false;
  var updates = document.querySelector(".updates");
  var pinnedSlot = document.querySelector(".pinned");
  var keyEvents = document.querySelector(".key-events");
  var keyList = keyEvents && keyEvents.querySelector("ol");
  var announcer = document.querySelector(".live-announcer");
  var lastUpdated = document.querySelector(".blog-updated-time");
  var reveal = root.querySelector(".live-reveal");
  var baseTitle = document.title;
  // The page's words, in the blog's language (see _live.html): this script holds none.
  var strings = JSON.parse(root.getAttribute("data-strings") || "{}");
  var pluralRules = null;
  try {
    pluralRules = new Intl.PluralRules(strings.language);
  } catch (error) {
    // No Intl, or a language it does not know: "other" is every number's form.
  }
  var held = [];
  var dayHeadings = {};
  var unseen = 0;
  var source = null;
  var failures = 0;
  var timer = null;
  var stopped = false;

  // A message with its %(name)s filled in (by a function: a label's "$&" stays as it is).
  function fill(message, name, value) {
    return (message || "").replace("%(" + name + ")s", function () {
      return value;
    });
  }

  // "N new updates" in the form the language uses for N (Arabic has six).
  function newUpdates(count) {
    var forms = strings.newUpdates || {};
    var category = pluralRules ? pluralRules.select(count) : "other";
    return fill(forms[category] || forms.other, "num", String(count));
  }

  function element(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  // Entries are ordered newest first by (published time, id), as the server orders them.
  function isNewer(a, b) {
    var timeA = Date.parse(a.getAttribute("data-published"));
    var timeB = Date.parse(b.getAttribute("data-published"));
    if (timeA !== timeB) return timeA > timeB;
    return parseInt(a.getAttribute("data-entry-id"), 10) > parseInt(b.getAttribute("data-entry-id"), 10);
  }

  function insertSorted(container, node, selector) {
    var siblings = container.querySelectorAll(selector);
    for (var i = 0; i < siblings.length; i++) {
      if (isNewer(node, siblings[i])) {
        siblings[i].parentNode.insertBefore(node, siblings[i]);
        return;
      }
    }
    container.appendChild(node);
  }

  function rememberDay(heading) {
    var time = heading && heading.querySelector("time");
    if (time) dayHeadings[time.getAttribute("datetime")] = heading;
  }

  // As on the server: a heading above each day's first update once the updates span days.
  function arrangeDays() {
    var articles = updates.querySelectorAll(":scope > article");
    var old = updates.querySelectorAll(":scope > .updates-day");
    for (var i = 0; i < old.length; i++) old[i].remove();
    var days = {};
    for (i = 0; i < articles.length; i++) days[articles[i].getAttribute("data-day")] = true;
    var several = Object.keys(days).length > 1;
    var previous = null;
    for (i = 0; i < articles.length; i++) {
      var day = articles[i].getAttribute("data-day");
      var heading = dayHeadings[day];
      if (day !== previous && heading) {
        heading.hidden = !several;
        updates.insertBefore(heading, articles[i]);
      }
      previous = day;
    }
  }

  function tidy() {
    arrangeDays();
    var empty = updates.querySelector(".updates-none");
    if (empty && updates.querySelector("article")) empty.remove();
    pinnedSlot.hidden = !pinnedSlot.querySelector("article");
    if (keyEvents) keyEvents.hidden = !keyList.querySelector("li");
  }

  function removeEntry(id) {
    var existing = document.getElementById("update-" + id);
    if (existing) existing.remove();
    if (keyList) {
      var item = keyList.querySelector('li[data-entry-id="' + id + '"]');
      if (item) item.remove();
    }
  }

  function applyEntry(data) {
    removeEntry(data.entry_id);
    if (data.html) {
      if (data.day_html) rememberDay(element(data.day_html));
      var article = element(data.html);
      if (data.pinned) pinnedSlot.insertBefore(article, pinnedSlot.firstChild);
      else insertSorted(updates, article, ":scope > article");
      if (keyList && data.key_event_html) insertSorted(keyList, element(data.key_event_html), ":scope > li");
    }
    tidy();
  }

  function applyBlog(data) {
    // A deleted blog is gone for readers: the page reloads into its "removed" notice.
    if (data.status === "deleted") return window.location.reload();
    var title = document.querySelector(".blog-title");
    var standfirst = document.querySelector(".blog-standfirst");
    var status = document.querySelector(".blog-status");
    if (title) title.textContent = data.title;
    if (standfirst) standfirst.textContent = data.standfirst;
    // The server ends the stream ("stop") once a blog has ended and every change is sent:
    // a later change may still come (a correction), or the blog may go live again.
    if (status && (data.status === "ended" || data.status === "live")) {
      status.textContent = (data.status === "ended" ? strings.ended : strings.live) || "";
      status.className = "blog-status blog-status-" + data.status;
    }
  }

  function announce(text) {
    if (announcer) announcer.textContent = text;
  }

  function showCount() {
    document.title = unseen ? "(" + unseen + ") " + baseTitle : baseTitle;
    if (held.length) {
      reveal.textContent = newUpdates(held.length);
      root.hidden = false;
    } else {
      root.hidden = true;
    }
  }

  // Further down: the top of the updates is above the window (by more than the fraction
  // of a pixel that scrollIntoView can leave when it brings it back).
  function readingFurtherDown() {
    return updates.getBoundingClientRect().top < -1;
  }

  function heldIndex(id) {
    for (var i = 0; i < held.length; i++) {
      if (held[i].entry_id === id) return i;
    }
    return -1;
  }

  function receive(data) {
    if (data.seq <= seq) return;
    seq = data.seq;
    // updated.js words this time afresh whenever it moves.
    if (lastUpdated && data.changed_at) lastUpdated.setAttribute("datetime", data.changed_at);
    if (refresh) {
      refreshTeaser();
      return;
    }
    if (data.type === "blog.updated") {
      applyBlog(data);
      return;
    }
    // An entry still held back is not on the page: keep its latest state, or forget it.
    var waiting = heldIndex(data.entry_id);
    if (waiting >= 0) {
      if (data.html) {
        held[waiting] = data;
      } else {
        held.splice(waiting, 1);
        unseen = Math.max(0, unseen - 1);
      }
      showCount();
      return;
    }
    var isNew = data.html && !document.getElementById("update-" + data.entry_id);
    if (isNew && (readingFurtherDown() || held.length)) {
      held.push(data);
      unseen += 1;
      announce(newUpdates(held.length));
    } else {
      applyEntry(data);
      if (isNew) {
        if (document.hidden) unseen += 1;
        announce(fill(strings.newUpdate, "label", data.label || ""));
      }
    }
    showCount();
  }

  function revealHeld() {
    held.splice(0).forEach(applyEntry);
    unseen = 0;
    showCount();
    updates.scrollIntoView({ block: "start" });
  }

  // The teaser as the server renders it at seq (in the URL, so that no shared cache
  // answers with an older copy); one request at a time, then one more for what came since.
  function refreshTeaser() {
    if (refreshing) {
      refreshAgain = true;
      return;
    }
    refreshing = true;
    refreshAgain = false;
    var request = new XMLHttpRequest();
    request.open("GET", refresh + (refresh.indexOf("?") < 0 ? "?" : "&") + "seq=" + seq);
    request.responseType = "document";
    request.onloadend = function () {
      refreshing = false;
      var fresh = request.status === 200 && request.response && request.response.querySelector(".teaser");
      var shown = document.querySelector(".teaser");
      if (fresh && shown) shown.replaceWith(document.adoptNode(fresh));
      if (refreshAgain) refreshTeaser();
      else if (!fresh && (request.status === 0 || request.status >= 500)) window.setTimeout(refreshTeaser, POLL_MS);
    };
    request.send();
  }

  function onEvent(message) {
    try {
      receive(JSON.parse(message.data));
    } catch (error) {
      // A malformed event is skipped; the next one carries on from the log.
    }
  }

  function backoff() {
    return Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, Math.min(failures, 5)));
  }

  function connect() {
    if (stopped) return;
    if (!window.EventSource || failures >= 5) {
      poll();
      return;
    }
    source = new EventSource(root.getAttribute("data-events") + "?since=" + seq);
    ENTRY_TYPES.concat(["blog.updated"]).forEach(function (type) {
      source.addEventListener(type, onEvent);
    });
    source.addEventListener("reset", function () {
      window.location.reload();
    });
    source.addEventListener("stop", stop);
    source.onopen = function () {
      failures = 0;
    };
    source.onerror = function () {
      if (source.readyState !== EventSource.CLOSED) return;
      failures += 1;
      source = null;
      // The server closes the stream for good (204) once the blog has ended: ask once.
      fetchChanges(function () {
        timer = window.setTimeout(connect, backoff());
      });
    };
  }

  // Applies the changes since seq, then calls next(ok), unless the blog has ended.
  function fetchChanges(next) {
    var request = new XMLHttpRequest();
    request.open("GET", root.getAttribute("data-changes") + "?since=" + seq);
    request.onload = function () {
      if (request.status === 410) return window.location.reload();
      if (request.status !== 200) return next(false);
      var body = JSON.parse(request.responseText);
      if (body.reset) return window.location.reload();
      body.events.forEach(receive);
      if (body.status === "ended") return stop();
      next(true);
    };
    request.onerror = function () {
      next(false);
    };
    request.send();
  }

  function poll() {
    if (stopped) return;
    fetchChanges(function (ok) {
      failures = ok ? 0 : failures + 1;
      timer = window.setTimeout(poll, ok ? POLL_MS : Math.max(POLL_MS, backoff()));
    });
  }

  function stop() {
    stopped = true;
    if (source) source.close();
    window.clearTimeout(timer);
  }

  if (!refresh) {
    var headings = updates.querySelectorAll(".updates-day");
    for (var i = 0; i < headings.length; i++) rememberDay(headings[i]);
    reveal.addEventListener("click", revealHeld);
    window.addEventListener("scroll", function () {
      if (held.length && !readingFurtherDown()) revealHeld();
    }, { passive: true });
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && !held.length) {
        unseen = 0;
        showCount();
      }
    });
  }
  connect();
})();
