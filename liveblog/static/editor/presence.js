// Who else is editing which update: marks from the editors' stream, shown on their items
// until they lapse; and this editor's own mark, renewed while an edit form is open and
// cleared when it closes (or the page goes), so colleagues know before a save conflicts.
import { el } from "./dom.js";

const HEARTBEAT_MS = 10000;
const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

export function Presence(stream, base) {
  this.stream = stream;
  this.base = base;
  this.marks = [];
  this.mine = null;
  this.heartbeat = null;
  this.lapse = null;
  const self = this;
  window.addEventListener("pagehide", function () {
    if (self.mine === null) return;
    navigator.sendBeacon(self.url(self.mine), self.form("closed"));
  });
}

Presence.prototype.url = function (id) { return this.base + id + "/editing"; };

Presence.prototype.form = function (state) {
  const body = new FormData();
  body.append("csrf_token", csrf);
  body.append("state", state);
  return body;
};

// Best effort: a lost heartbeat lapses like a closed laptop, and saving still checks versions.
Presence.prototype.send = function (id, state) {
  fetch(this.url(id), { method: "POST", body: this.form(state), credentials: "same-origin", keepalive: true })
    .catch(function () {});
};

Presence.prototype.start = function (id) {
  if (this.mine === id) return;
  if (this.mine !== null) this.stop(this.mine);
  const self = this;
  this.mine = id;
  this.send(id, "open");
  this.heartbeat = setInterval(function () { self.send(id, "open"); }, HEARTBEAT_MS);
};

Presence.prototype.stop = function (id) {
  if (this.mine !== id) return;
  clearInterval(this.heartbeat);
  this.mine = null;
  this.send(id, "closed");
};

Presence.prototype.receive = function (editing) {
  const now = Date.now();
  const userId = this.stream.userId;
  const before = this.marks;
  this.marks = editing.filter(function (mark) { return mark.user.id !== userId; }).map(function (mark) {
    return { entryId: mark.entry_id, name: mark.user.name, until: now + mark.expires_in * 1000 };
  });
  this.repaint(before);
};

Presence.prototype.repaint = function (before) {
  const self = this;
  const ids = {};
  before.concat(this.marks).forEach(function (mark) { ids[mark.entryId] = true; });
  Object.keys(ids).forEach(function (id) { self.paint(Number(id)); });
  clearTimeout(this.lapse);
  const soonest = Math.min.apply(null, this.marks.map(function (mark) { return mark.until; }));
  if (isFinite(soonest)) {
    this.lapse = setTimeout(function () {
      const lapsed = self.marks;
      self.marks = lapsed.filter(function (mark) { return mark.until > Date.now(); });
      self.repaint(lapsed);
    }, Math.max(0, soonest - Date.now()) + 50);
  }
};

Presence.prototype.paint = function (id) {
  const item = document.getElementById("item-" + id);
  if (!item) return;
  const names = this.marks.filter(function (mark) { return mark.entryId === id && mark.until > Date.now(); })
    .map(function (mark) { return mark.name; });
  const old = item.querySelector(".item-presence");
  if (old) old.remove();
  if (!names.length) return;
  const who = names.length === 1 ? names[0] + " is" : names.slice(0, -1).join(", ") + " and " + names[names.length - 1] + " are";
  item.querySelector(".item-meta").after(el("p", { "class": "item-presence", role: "status", text: who + " editing this update" }));
};
