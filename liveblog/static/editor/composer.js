// The composer: a new update's fields, its preview rendered by the server through the
// blog's theme, and saving it (publish, schedule, draft, or submit for review).
import { RequestKeys, api, explain } from "./api.js";
import { Attachments } from "./attachments.js";
import { LookupWarning } from "./lookups.js";
import { PastedLabels } from "./pasted.js";
import { ReaderFrame } from "./reader-frame.js";

const FIELD_NAMES = {
  headline: "The headline", body: "The text", published_at: "The time", authors: "The byline"
};

// Time fields: datetime-local on this device's clock <-> ISO 8601 with an offset.

function localValue(date) {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 16);
}

function isoFrom(value) {
  const date = new Date(value);
  return isNaN(date.getTime()) ? null : date.toISOString();
}

function describeField(path) {
  const name = path.split(".").pop().replace(/\[\d+\]/g, "").replace(/_/g, " ");
  return name.charAt(0).toUpperCase() + name.slice(1);
}

export function Composer(root) {
  this.root = root;
  this.base = root.dataset.api;
  this.form = document.getElementById("composer");
  this.preview = new ReaderFrame(document.getElementById("preview-frame"));
  this.previewHint = document.getElementById("preview-hint");
  this.status = document.getElementById("composer-status");
  this.summary = document.getElementById("composer-error");
  this.time = document.getElementById("published_at");
  this.labelPreview = document.getElementById("label-preview");
  this.timeTouched = false;
  this.previewCount = 0;
  this.attachments = new Attachments(this.refreshPreview.bind(this));
  this.labels = new PastedLabels(this);
  this.requestKeys = new RequestKeys();
  this.lookups = new LookupWarning(this.base);
  this.resetTime();
  const self = this;
  let timer = null;
  this.form.addEventListener("input", function (event) {
    if (event.target === self.time) self.timeTouched = true;
    if (event.target.closest(".attachments details")) return; // not part of the entry yet
    clearTimeout(timer);
    timer = setTimeout(function () { self.refreshPreview(); }, 250);
  });
  this.form.addEventListener("submit", function (event) {
    event.preventDefault();
    const button = event.submitter || self.form.querySelector("button.primary");
    self.save(button.dataset.status);
  });
  this.form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      self.save(self.form.querySelector("button.primary").dataset.status);
    }
  });
}

Composer.prototype.resetTime = function () {
  this.time.value = localValue(new Date());
  this.timeTouched = false;
};

Composer.prototype.values = function (status) {
  const data = {
    headline: this.form.headline.value.trim() || null,
    body: this.form.body.value,
    key_event: this.form.key_event.checked
  };
  if (this.form.pinned) data.pinned = this.form.pinned.checked;
  data.authors = Array.from(this.form.authors.selectedOptions, function (option) {
    return Number(option.value);
  });
  if (this.attachments.blocks.length) data.blocks = this.attachments.blocks.slice();
  if (this.labels.keep) data.keep_label = true;
  if (status === "review") {
    data.status = "draft";
    data.review = "pending";
  } else if (status) {
    data.status = status;
  }
  if (this.timeTouched || status === "scheduled") {
    const iso = isoFrom(this.time.value);
    if (iso) data.published_at = iso;
  }
  return data;
};

Composer.prototype.showErrors = function (result) {
  const self = this;
  const unplaced = [];
  (result.data.errors || []).forEach(function (error) {
    const field = error.field.replace(/^authors\[\d+\]$/, "authors");
    const name = field.indexOf("blocks") === 0 && !self.attachments.blocks.length ? "body" : field;
    const slot = document.getElementById(name + "-error");
    if (error.field.indexOf("blocks") === 0 && name !== "body") {
      unplaced.push("An item added to this update: " + describeField(error.field) + " " + error.message + ".");
    } else if (slot && FIELD_NAMES[name]) {
      slot.textContent = FIELD_NAMES[name] + " " + error.message + ".";
      slot.hidden = false;
      const input = document.getElementById(name);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", name + "-error");
    } else {
      unplaced.push(error.message);
    }
  });
  if (!result.data.errors || unplaced.length) {
    self.summary.textContent = unplaced.length ? unplaced.join("; ") : explain(result);
    self.summary.hidden = false;
  }
};

Composer.prototype.clearErrors = function () {
  this.summary.hidden = true;
  this.form.querySelectorAll(".error[id$='-error']").forEach(function (slot) {
    if (slot === this.summary) return;
    slot.hidden = true;
    slot.textContent = "";
    const input = document.getElementById(slot.id.replace(/-error$/, ""));
    if (input) { input.removeAttribute("aria-invalid"); input.removeAttribute("aria-describedby"); }
  }, this);
};

Composer.prototype.refreshPreview = function () {
  const self = this;
  const data = this.values();
  const count = ++this.previewCount;
  if (!data.body.trim() && !data.blocks) {
    this.showHint("hint", "Start typing to see the update here.");
    this.labelPreview.textContent = "";
    return this.preview.clear();
  }
  return api("POST", this.base + "/preview", data).then(function (result) {
    if (count !== self.previewCount) return; // a newer preview is on its way
    if (result.ok) {
      self.previewHint.hidden = true;
      self.labelPreview.textContent = "Label: " + result.data.label;
      return self.preview.show(result.data.html);
    }
    self.showHint("error", explain(result));
    return self.preview.clear();
  });
};

Composer.prototype.showHint = function (kind, text) {
  this.previewHint.className = kind;
  this.previewHint.textContent = text;
  this.previewHint.hidden = false;
};

Composer.prototype.save = function (status) {
  const self = this;
  this.clearErrors();
  this.status.textContent = "Saving…";
  const values = this.values(status);
  api("POST", this.base + "/entries", values, this.requestKeys.headersFor(values)).then(function (result) {
    if (!result.ok) {
      self.status.textContent = "";
      self.showErrors(result);
      return;
    }
    self.requestKeys.clear();
    const entry = result.data;
    const done = entry.review === "pending" ? "Submitted for review" :
      { published: "Published", scheduled: "Scheduled", draft: "Saved as a draft" }[entry.status];
    self.status.textContent = done + (entry.label ? ": " + entry.label : "") + ".";
    self.lookups.watch(entry);
    self.form.reset();
    self.attachments.clear();
    self.labels.clear();
    self.resetTime();
    self.refreshPreview();
    self.form.body.focus();
  });
};
