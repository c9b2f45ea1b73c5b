// The stream: the blog's entries, newest first, refreshed every few seconds, with edit
// in place, pin, key event, history and delete. Every change names the version it was
// made on (If-Match), so nobody overwrites an edit they have not seen.
import { api, explain } from "./api.js";
import { el } from "./dom.js";
import { editForm, editedEntry, entryItem, revisionList, versions } from "./stream-views.js";

export function Stream(root) {
  this.base = root.dataset.api;
  this.isEditor = root.dataset.role !== "contributor";
  this.userId = Number(root.dataset.user);
  this.list = document.getElementById("stream");
  this.entries = {};
  this.refreshCount = 0;
  this.latestRefresh = null;
  const self = this;
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
  document.addEventListener("liveblog:saved", function () { self.refresh(); });
  this.refresh();
  setInterval(function () { self.refresh(); }, 2000);
}

Stream.prototype.path = function (entry) { return this.base + "/entries/" + entry.id; };

// Refreshes overlap (the timer, a save, a closed panel): only the latest one is drawn,
// and every caller's promise settles once it has been.
Stream.prototype.refresh = function () {
  const self = this;
  const count = ++this.refreshCount;
  this.latestRefresh = api("GET", this.base + "/entries?limit=100").then(function (result) {
    if (count !== self.refreshCount) return self.latestRefresh;
    if (!result.ok) return;
    const seen = {};
    let previous = null;
    result.data.items.forEach(function (entry) {
      if (entry.status === "deleted") return;
      seen[entry.id] = true;
      let item = document.getElementById("item-" + entry.id);
      const busy = item && item.querySelector(".item-panel").childNodes.length;
      if (!item || (!busy && Number(item.dataset.version) !== entry.version)) {
        const fresh = entryItem(entry, self.isEditor, self.userId);
        if (item) item.replaceWith(fresh); else self.list.insertBefore(fresh, previous ? previous.nextSibling : self.list.firstChild);
        item = fresh;
      }
      if (!busy) self.entries[entry.id] = entry;
      previous = item;
    });
    Array.prototype.slice.call(self.list.children).forEach(function (item) {
      if (!seen[item.dataset.id]) item.remove();
    });
  });
  return this.latestRefresh;
};

Stream.prototype.panel = function (item, children) {
  const panel = item.querySelector(".item-panel");
  panel.textContent = "";
  (children || []).forEach(function (child) { panel.appendChild(child); });
  return panel;
};

Stream.prototype.close = function (item) {
  this.panel(item);
  delete item.dataset.version; // redrawn by the next refresh
  return this.refresh();
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
    if (result.ok) return self.close(item);
    if (result.status === 412) {
      self.close(item).then(function () {
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
    if (result.ok) return self.close(item);
    self.problem(item, explain(result));
  });
};

Stream.prototype.openEditor = function (entry, item) {
  const form = editForm(entry, this.isEditor);
  this.panel(item, [form]);
  form.headline.focus();
};

Stream.prototype.saveEdit = function (entry, item, form) {
  const self = this;
  const mine = editedEntry(entry, form);
  this.change(entry, mine, form.dataset.version).then(function (result) {
    if (result.ok) return self.close(item);
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
      if (result.ok) return self.close(item);
      if (result.status !== 412) return self.problem(item, explain(result));
      api("GET", self.path(entry)).then(function (current) {
        if (current.ok) self.showConflict(entry, item, mine, current.data);
      });
    });
  });
  take.addEventListener("click", function () { self.close(item); });
  keep.focus();
};

Stream.prototype.showHistory = function (entry, item) {
  const self = this;
  api("GET", this.path(entry) + "/revisions").then(function (result) {
    if (!result.ok) return self.problem(item, explain(result));
    self.panel(item, [el("h4", { text: "History" }), revisionList(entry, result.data.items), el("button", { type: "button", "data-act": "cancel", text: "Close" })]);
  });
};
