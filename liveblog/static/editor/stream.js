// The stream: the blog's entries, newest first, kept current by the editors' event stream
// (drafts and reviews too, and who is editing what), with filters, search, edit in place,
// pin, key event, history and delete. Every change names the version it was made on
// (If-Match), so nobody overwrites an edit they have not seen.
import { api, explain } from "./api.js";
import { el } from "./dom.js";
import { Presence } from "./presence.js";
import { editForm, editedEntry, entryItem, matches, moment, revisionList, versions } from "./stream-views.js";

export function Stream(root) {
  this.base = root.dataset.api;
  this.isEditor = root.dataset.role !== "contributor";
  this.userId = Number(root.dataset.user);
  this.dates = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    timeZone: root.dataset.timezone, day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit"
  });
  this.list = document.getElementById("stream");
  this.entries = {}; // what each item shows, and the version its buttons act on
  this.latest = {}; // the newest version the event stream has sent of each entry
  this.waiting = {}; // id -> callbacks waiting for a newer version than shown
  this.filter = "all";
  this.words = [];
  this.presence = new Presence(this, root.dataset.editing);
  const self = this;
  document.getElementById("stream-filters").addEventListener("change", function (event) {
    self.filter = event.target.value;
    self.applyFilters();
  });
  document.getElementById("stream-search").addEventListener("input", function (event) {
    self.words = event.target.value.toLowerCase().split(/\s+/).filter(Boolean);
    self.applyFilters();
  });
  this.list.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-act]");
    if (!button) return;
    const item = button.closest(".item");
    if (button.closest(".item-actions")) self.opener = button.dataset.act;
    self.act(button.dataset.act, self.entries[item.dataset.id], item, button);
  });
  this.list.addEventListener("submit", function (event) {
    event.preventDefault();
    const item = event.target.closest(".item");
    const entry = self.entries[item.dataset.id];
    if (event.target.classList.contains("return-form")) self.returnDraft(entry, item, event.target);
    else self.saveEdit(entry, item, event.target);
  });
  this.list.addEventListener("keydown", function (event) {
    const item = event.target.closest(".item");
    if (event.key !== "Escape" || !item || !item.querySelector(".item-panel").childNodes.length) return;
    self.close(item).then(function () {
      const again = document.querySelector("#item-" + item.dataset.id + " button[data-act]");
      const same = document.querySelector("#item-" + item.dataset.id + " button[data-act=" + (self.opener || "edit") + "]");
      (same || again || document.getElementById("stream-heading")).focus();
    });
  });
  this.list.addEventListener("click", function (event) {
    const toggle = event.target.closest("button[data-expand]");
    if (toggle) self.expand(toggle);
  });
  const events = new EventSource(root.dataset.events);
  events.addEventListener("entries", function (event) { self.receive(JSON.parse(event.data)); });
  events.addEventListener("presence", function (event) { self.presence.receive(JSON.parse(event.data).editing); });
}

Stream.prototype.path = function (entry) { return this.base + "/entries/" + entry.id; };

Stream.prototype.busy = function (item) {
  return Boolean(item && item.querySelector(".item-panel").childNodes.length);
};

// What the event stream sent: new versions of entries (a snapshot of the newest ones on
// every new connection), and entries this editor may no longer see.
Stream.prototype.receive = function (data) {
  const self = this;
  const sent = {};
  data.items.forEach(function (entry) {
    sent[entry.id] = true;
    self.latest[entry.id] = entry;
    const item = document.getElementById("item-" + entry.id);
    if (!self.busy(item)) self.draw(entry, item);
    (self.waiting[entry.id] || []).forEach(function (callback) { callback(entry); });
    delete self.waiting[entry.id];
  });
  data.gone.forEach(function (id) {
    delete self.latest[id];
    const item = document.getElementById("item-" + id);
    if (item) item.remove();
  });
  if (data.snapshot) {
    Array.prototype.slice.call(this.list.children).forEach(function (item) {
      if (!sent[item.dataset.id] && !self.busy(item)) item.remove();
    });
  }
  this.countShown();
};

// The item of ``entry``, drawn afresh in its place (newest first), or removed once deleted.
Stream.prototype.draw = function (entry, item) {
  if (entry.status === "deleted") {
    if (item) item.remove();
    delete this.entries[entry.id];
    return;
  }
  const fresh = entryItem(entry, this.isEditor, this.userId, this.dates, this.list.dataset.readerShell);
  this.entries[entry.id] = entry;
  if (item) item.replaceWith(fresh);
  else {
    const key = moment(entry);
    const after = Array.prototype.find.call(this.list.children, function (other) {
      const shown = this.entries[other.dataset.id];
      return shown && (moment(shown) < key || (moment(shown) === key && shown.id < entry.id));
    }, this);
    this.list.insertBefore(fresh, after || null);
  }
  fresh.hidden = !matches(entry, this.filter, this.words);
  this.presence.paint(entry.id);
};

Stream.prototype.applyFilters = function () {
  Array.prototype.forEach.call(this.list.children, function (item) {
    const entry = this.entries[item.dataset.id];
    if (entry) item.hidden = !matches(entry, this.filter, this.words);
  }, this);
  this.countShown();
};

Stream.prototype.countShown = function () {
  const shown = Array.prototype.filter.call(this.list.children, function (item) { return !item.hidden; }).length;
  const total = this.list.children.length;
  document.getElementById("stream-count").textContent = shown === total ? total + " updates" : shown + " of " + total + " updates";
};

Stream.prototype.expand = function (button) {
  const body = document.getElementById(button.getAttribute("aria-controls"));
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  body.classList.toggle("collapsed", !open);
  button.textContent = open ? "Show less" : "Show all";
};

// Resolves with the entry once the stream has sent a version newer than ``version``.
Stream.prototype.newerThan = function (id, version) {
  const self = this;
  const known = this.latest[id];
  if (known && known.version > version) return Promise.resolve(known);
  return new Promise(function (resolve) { (self.waiting[id] = self.waiting[id] || []).push(resolve); });
};

Stream.prototype.panel = function (item, children) {
  const panel = item.querySelector(".item-panel");
  panel.textContent = "";
  (children || []).forEach(function (child) { panel.appendChild(child); });
  return panel;
};

// Closes the item's panel and shows the newest version the stream has sent; after a
// save, ``saved`` (the version the API answered with) is waited for first.
Stream.prototype.close = function (item, saved) {
  const self = this;
  const id = item.dataset.id;
  this.presence.stop(Number(id));
  this.panel(item);
  const wait = saved ? this.newerThan(id, saved.version - 1) : Promise.resolve(this.latest[id]);
  return wait.then(function (entry) {
    const current = document.getElementById("item-" + id);
    if (entry && current && !self.busy(current)) self.draw(self.latest[id], current);
  });
};

Stream.prototype.problem = function (item, message) {
  const panel = item.querySelector(".item-panel");
  const old = panel.querySelector(".error");
  if (old) old.remove();
  const note = el("p", { "class": "error", role: "alert", text: message });
  panel.insertBefore(note, panel.firstChild);
};

Stream.prototype.change = function (entry, data, version) {
  return api("PATCH", this.path(entry), data, { "If-Match": '"' + (version || entry.version) + '"' });
};

Stream.prototype.act = function (act, entry, item, button) {
  const self = this;
  if (act === "cancel") return this.close(item);
  if (act === "edit") return this.openEditor(entry, item);
  if (act === "history") return this.showHistory(entry, item);
  if (act === "return") {
    const note = el("textarea", { id: "return-" + entry.id, name: "note", rows: "3", maxlength: "1000" });
    this.panel(item, [el("form", { "class": "return-form" }, [
      el("p", { "class": "field" }, [el("label", { "for": note.id, text: "Note for the author" }), note]),
      el("p", { "class": "actions" }, [
        el("button", { type: "submit", "class": "primary", text: "Send back" }),
        el("button", { type: "button", "data-act": "cancel", text: "Cancel" })
      ])
    ])]);
    return note.focus();
  }
  if (act === "delete") {
    const confirm = el("button", { type: "button", "class": "danger", "data-act": "confirm-delete", text: "Delete for good" });
    this.panel(item, [
      el("p", { text: "Delete this update? Readers will no longer see it." }),
      el("p", { "class": "actions" }, [confirm, el("button", { type: "button", "data-act": "cancel", text: "Keep it" })])
    ]);
    return confirm.focus();
  }
  let request;
  if (act === "confirm-delete") {
    request = api("DELETE", this.path(entry), undefined, { "If-Match": '"' + entry.version + '"' });
  } else if (act === "pin") {
    request = this.change(entry, { pinned: !entry.pinned });
  } else if (act === "publish") {
    request = this.change(entry, { status: "published" });
  } else if (act === "submit") {
    request = this.change(entry, { review: "pending" });
  } else if (act === "key") {
    request = this.change(entry, { key_event: !entry.key_event });
  } else if (act === "restore") {
    const revision = JSON.parse(button.dataset.revision);
    request = this.change(entry, { headline: revision.headline, blocks: revision.blocks });
  } else {
    return;
  }
  request.then(function (result) {
    if (result.ok) return self.close(item, { version: result.data.version || entry.version + 1 });
    if (result.status === 412) {
      self.newerThan(entry.id, entry.version).then(function () { return self.close(item); }).then(function () {
        const fresh = document.getElementById("item-" + entry.id);
        if (fresh) {
          self.panel(fresh, [el("button", { type: "button", "data-act": "cancel", text: "OK" })]);
          self.problem(fresh, "Someone else changed this update a moment ago; here is their version. Nothing was changed: try again if you still want to.");
        }
      });
      return;
    }
    if (!item.querySelector(".item-panel").childNodes.length) {
      self.panel(item, [el("button", { type: "button", "data-act": "cancel", text: "OK" })]);
    }
    self.problem(item, explain(result));
  });
};

Stream.prototype.returnDraft = function (entry, item, form) {
  const self = this;
  this.change(entry, { review: "returned", review_note: form.note.value.trim() || null }).then(function (result) {
    if (result.ok) return self.close(item, result.data);
    self.problem(item, explain(result));
  });
};

Stream.prototype.openEditor = function (entry, item) {
  const form = editForm(entry, this.isEditor);
  this.panel(item, [form]);
  this.presence.start(entry.id);
  form.headline.focus();
};

Stream.prototype.saveEdit = function (entry, item, form) {
  const self = this;
  const mine = editedEntry(entry, form);
  this.change(entry, mine, form.dataset.version).then(function (result) {
    if (result.ok) return self.close(item, result.data);
    if (result.status !== 412) return self.problem(item, explain(result));
    api("GET", self.path(entry)).then(function (current) {
      if (!current.ok) return self.problem(item, explain(current));
      self.showConflict(entry, item, mine, current.data);
    });
  });
};

Stream.prototype.showConflict = function (entry, item, mine, theirs) {
  const self = this;
  const keep = el("button", { type: "button", "class": "primary", text: "Keep my version" });
  const take = el("button", { type: "button", text: "Use their version" });
  this.panel(item, [
    el("p", { "class": "error", role: "alert", text: "Someone else saved this update while you were editing it. Choose which version to keep." }),
    versions(mine, theirs),
    el("p", { "class": "actions" }, [keep, take])
  ]);
  keep.addEventListener("click", function () {
    self.change(entry, mine, theirs.version).then(function (result) {
      if (result.ok) return self.close(item, result.data);
      if (result.status !== 412) return self.problem(item, explain(result));
      api("GET", self.path(entry)).then(function (current) {
        if (current.ok) self.showConflict(entry, item, mine, current.data);
      });
    });
  });
  take.addEventListener("click", function () { self.newerThan(entry.id, theirs.version - 1).then(function () { self.close(item); }); });
  keep.focus();
};

Stream.prototype.showHistory = function (entry, item) {
  const self = this;
  api("GET", this.path(entry) + "/revisions").then(function (result) {
    if (!result.ok) return self.problem(item, explain(result));
    self.panel(item, [el("h4", { text: "History" }), revisionList(entry, result.data.items), el("button", { type: "button", "data-act": "cancel", text: "Close" })]);
  });
};
