// Labels typed or pasted at the start of the text ("UPDATE 0745 GMT: …"): the server says
// what it understood, the composer shows it before publishing, with a way to keep the label
// as text; text whose paragraphs each start with a label is offered as one update each.
import { RequestKeys, api, explain } from "./api.js";
import { el } from "./dom.js";

export function PastedLabels(composer) {
  this.composer = composer;
  this.notice = document.getElementById("label-notice");
  this.split = document.getElementById("paste-split");
  this.keep = false;
  this.written = null;
  // Kept across splits until every update is published: one left in the text box after a
  // failure goes again with its key, and is not published twice if it was after all.
  this.requestKeys = new RequestKeys();
  this.asked = 0;
  const self = this;
  let timer = null;
  composer.form.body.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { self.read(); }, 250);
  });
  this.notice.addEventListener("click", function (event) {
    if (!event.target.closest("button")) return;
    self.keep = !self.keep;
    self.read();
  });
  this.split.addEventListener("click", function (event) {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.dataset.split === "each") self.publishEach();
    else self.showUpdates([]);
  });
}

PastedLabels.prototype.clear = function () {
  this.keep = false;
  this.written = null;
  this.updates = [];
  this.notice.hidden = true;
  this.notice.textContent = "";
  this.showUpdates([]);
};

PastedLabels.prototype.read = function () {
  const self = this;
  const body = this.composer.form.body.value;
  if (!body.trim()) return this.clear();
  const count = ++this.asked;
  api("POST", this.composer.base + "/labels", { body: body }).then(function (result) {
    if (count !== self.asked || !result.ok) return;
    const label = result.data.label;
    if (!label || label.written !== self.written) self.keep = false;
    self.written = label ? label.written : null;
    self.showLabel(label);
    self.showUpdates(result.data.updates);
  });
};

PastedLabels.prototype.showLabel = function (label) {
  this.notice.textContent = "";
  this.notice.hidden = !label;
  if (!label) return;
  const timeSet = this.composer.timeTouched;
  const said = this.keep ? "“" + label.written + "” stays in the text." :
    timeSet ? "“" + label.written + "” is taken out of the text; the time you set is used." :
    "Will be published as " + label.understood + ".";
  this.notice.appendChild(el("span", { text: said + (label.note && !this.keep ? " " + label.note : "") }));
  this.notice.appendChild(document.createTextNode(" "));
  this.notice.appendChild(el("button", {
    type: "button", "class": "link",
    text: this.keep ? "Use it as the time" : "Keep “" + label.written + "” as text"
  }));
};

PastedLabels.prototype.showUpdates = function (updates) {
  this.updates = updates;
  this.split.textContent = "";
  this.split.hidden = updates.length < 2;
  if (updates.length < 2) return;
  const heading = "This looks like " + updates.length + " updates — publish as " + updates.length + "?";
  this.split.appendChild(el("p", { "class": "split-question", text: heading }));
  this.split.appendChild(el("ol", { "class": "split-list" }, updates.map(function (update) {
    const words = update.body.length > 80 ? update.body.slice(0, 79) + "…" : update.body;
    return el("li", {}, [el("strong", { text: update.understood }), document.createTextNode(": " + words)]);
  })));
  this.split.appendChild(el("p", {}, [
    el("button", { type: "button", "class": "primary", "data-split": "each", text: "Publish as " + updates.length + " updates" }),
    document.createTextNode(" "),
    el("button", { type: "button", "data-split": "one", text: "Keep as one update" })
  ]));
};

// One create call per update, oldest first, each with its own time. The first failure
// stops the rest: those published are listed, the others stay in the text box to retry.
PastedLabels.prototype.publishEach = function () {
  const self = this;
  const updates = this.updates.slice();
  const items = this.split.querySelectorAll(".split-list li");
  const status = this.composer.status;
  let published = 0;
  this.split.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
  function next(index) {
    if (index === updates.length) return finish(null);
    const values = { body: updates[index].body, published_at: updates[index].published_at };
    return api("POST", self.composer.base + "/entries", values, self.requestKeys.headersFor(values)).then(function (result) {
      if (!result.ok) return finish(result);
      published += 1;
      items[index].appendChild(el("span", { "class": "notice", text: " — published" }));
      return next(index + 1);
    });
  }
  function finish(failure) {
    const rest = updates.slice(published).map(function (update) { return update.written + " " + update.body; });
    self.composer.form.body.value = rest.join("\n\n");
    if (failure) {
      status.textContent = "Published " + published + " of " + updates.length + " updates. The next one was not saved: " +
        explain(failure) + " It and the ones after it are still in the text box.";
    } else {
      status.textContent = "Published " + published + " updates.";
      self.requestKeys.clear();
      self.clear();
    }
    self.composer.refreshPreview();
  }
  next(0);
};
