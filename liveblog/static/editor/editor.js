// The editor's pages: slug suggestion, the composer with its server-rendered preview, and
// the stream of entries. Everything goes through the JSON API with the session cookie and
// the CSRF header, so the API's rules are the only rules. No dependencies.
(function () {
  "use strict";

  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var FIELD_NAMES = { headline: "The headline", body: "The text", published_at: "The time" };

  function api(method, path, body, headers) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: Object.assign({ "X-CSRF-Token": csrf, Accept: "application/json" }, headers || {})
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      var parse = response.status === 204 ? Promise.resolve(null) : response.json().catch(function () { return null; });
      return parse.then(function (data) {
        return { ok: response.ok, status: response.status, data: data || {} };
      });
    }, function () {
      return { ok: false, status: 0, data: { detail: "The server could not be reached. Check your connection; nothing was saved." } };
    });
  }

  function explain(result) {
    if (result.status === 401) return "You have been logged out. Log in again in another tab, then retry: your text is still here.";
    return result.data.detail || "Something went wrong (" + result.status + "). Your text is still here; try again.";
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "html") node.innerHTML = attrs[key]; // sanitised by the server
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  // Dashboard: suggest the address from the title until the editor types one.

  function suggestSlug() {
    var title = document.getElementById("title");
    var slug = document.getElementById("slug");
    if (!title || !slug) return;
    var edited = slug.value !== "";
    slug.addEventListener("input", function () { edited = slug.value !== ""; });
    title.addEventListener("input", function () {
      if (edited) return;
      slug.value = title.value.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
        .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80);
    });
  }

  // Time fields: datetime-local on this device's clock <-> ISO 8601 with an offset.

  function localValue(date) {
    var shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
    return shifted.toISOString().slice(0, 16);
  }

  function isoFrom(value) {
    var date = new Date(value);
    return isNaN(date.getTime()) ? null : date.toISOString();
  }

  // The composer.

  function Composer(root) {
    this.root = root;
    this.base = root.dataset.api;
    this.form = document.getElementById("composer");
    this.preview = document.getElementById("preview");
    this.status = document.getElementById("composer-status");
    this.summary = document.getElementById("composer-error");
    this.time = document.getElementById("published_at");
    this.labelPreview = document.getElementById("label-preview");
    this.timeTouched = false;
    this.previewCount = 0;
    this.attachments = new Attachments(this);
    this.resetTime();
    var self = this;
    var timer = null;
    this.form.addEventListener("input", function (event) {
      if (event.target === self.time) self.timeTouched = true;
      if (event.target.closest(".attachments details")) return; // not part of the entry yet
      clearTimeout(timer);
      timer = setTimeout(function () { self.refreshPreview(); }, 250);
    });
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = event.submitter || self.form.querySelector("button.primary");
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
    var data = {
      headline: this.form.headline.value.trim() || null,
      body: this.form.body.value,
      key_event: this.form.key_event.checked
    };
    if (this.form.pinned) data.pinned = this.form.pinned.checked;
    if (this.attachments.blocks.length) data.blocks = this.attachments.blocks.slice();
    if (status === "review") {
      data.status = "draft";
      data.review = "pending";
    } else if (status) {
      data.status = status;
    }
    if (this.timeTouched || status === "scheduled") {
      var iso = isoFrom(this.time.value);
      if (iso) data.published_at = iso;
    }
    return data;
  };

  Composer.prototype.showErrors = function (result) {
    var self = this;
    var unplaced = [];
    (result.data.errors || []).forEach(function (error) {
      var name = error.field.indexOf("blocks") === 0 && !self.attachments.blocks.length ? "body" : error.field;
      var slot = document.getElementById(name + "-error");
      if (error.field.indexOf("blocks") === 0 && name !== "body") {
        unplaced.push("An item added to this update: " + describeField(error.field) + " " + error.message + ".");
      } else if (slot && FIELD_NAMES[name]) {
        slot.textContent = FIELD_NAMES[name] + " " + error.message + ".";
        slot.hidden = false;
        var input = document.getElementById(name);
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
      var input = document.getElementById(slot.id.replace(/-error$/, ""));
      if (input) { input.removeAttribute("aria-invalid"); input.removeAttribute("aria-describedby"); }
    }, this);
  };

  Composer.prototype.refreshPreview = function () {
    var self = this;
    var data = this.values();
    if (!data.body.trim() && !data.blocks) {
      this.preview.innerHTML = '<p class="hint">Start typing to see the update here.</p>';
      this.labelPreview.textContent = "";
      return;
    }
    var count = ++this.previewCount;
    api("POST", this.base + "/preview", data).then(function (result) {
      if (count !== self.previewCount) return; // a newer preview is on its way
      if (result.ok) {
        self.preview.innerHTML = result.data.html;
        self.labelPreview.textContent = "Label: " + result.data.label;
      } else {
        self.preview.textContent = "";
        self.preview.appendChild(el("p", { "class": "error", text: explain(result) }));
      }
    });
  };

  Composer.prototype.save = function (status) {
    var self = this;
    this.clearErrors();
    this.status.textContent = "Saving…";
    api("POST", this.base + "/entries", this.values(status)).then(function (result) {
      if (!result.ok) {
        self.status.textContent = "";
        self.showErrors(result);
        return;
      }
      var entry = result.data;
      var done = entry.review === "pending" ? "Submitted for review" :
        { published: "Published", scheduled: "Scheduled", draft: "Saved as a draft" }[entry.status];
      self.status.textContent = done + (entry.label ? ": " + entry.label : "") + ".";
      self.form.reset();
      self.attachments.clear();
      self.resetTime();
      self.refreshPreview();
      self.form.body.focus();
      document.dispatchEvent(new CustomEvent("liveblog:saved"));
    });
  };

  function describeField(path) {
    var name = path.split(".").pop().replace(/\[\d+\]/g, "").replace(/_/g, " ");
    return name.charAt(0).toUpperCase() + name.slice(1);
  }

  function upload(file) {
    var body = new FormData();
    body.append("file", file);
    return fetch("/api/v1/uploads", {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, Accept: "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    }, function () {
      return { ok: false, status: 0, data: { detail: "The server could not be reached; the photo was not uploaded." } };
    });
  }

  function showError(id, message) {
    var slot = document.getElementById(id);
    slot.textContent = message || "";
    slot.hidden = !message;
    var input = document.getElementById(id.replace(/-error$/, ""));
    if (input && input.tagName !== "BUTTON") {
      if (message) { input.setAttribute("aria-invalid", "true"); input.setAttribute("aria-describedby", id); }
      else { input.removeAttribute("aria-invalid"); input.removeAttribute("aria-describedby"); }
    }
  }

  // What the composer adds to an update besides its text: a post or video looked up by
  // its link (a snapshot the editor can correct), a photo with its alt text, a map.

  var EDITABLE = {
    social: [["author_name", "Author"], ["author_handle", "Handle"], ["text", "Text of the post", true]],
    video: [["title", "Title"], ["caption", "Caption"]],
    image: [["alt", "Alt text"], ["caption", "Caption"], ["credit", "Credit"]],
    map: [["caption", "Caption"], ["credit", "Credit"]]
  };
  var KIND_NAMES = { social: "Post", video: "Video", image: "Photo", map: "Map" };

  function Attachments(composer) {
    this.composer = composer;
    this.blocks = [];
    this.markers = [];
    this.list = document.getElementById("attachments");
    this.count = 0;
    var self = this;
    document.querySelector(".attachments").addEventListener("click", function (event) {
      var button = event.target.closest("button[data-add]");
      if (button) self[button.dataset.add](button);
    });
    this.list.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-remove]");
      if (!button) return;
      self.blocks.splice(Number(button.dataset.remove), 1);
      self.render();
      composer.refreshPreview();
    });
    this.list.addEventListener("input", function (event) {
      var input = event.target;
      var block = self.blocks[Number(input.dataset.block)];
      if (input.value.trim()) block[input.dataset.key] = input.value; else delete block[input.dataset.key];
    });
    document.getElementById("markers").addEventListener("click", function (event) {
      var button = event.target.closest("button[data-marker]");
      if (!button) return;
      self.markers.splice(Number(button.dataset.marker), 1);
      self.renderMarkers();
    });
    document.getElementById("add-map").addEventListener("toggle", function (event) {
      if (event.target.open) self.openMap();
    });
  }

  Attachments.prototype.add = function (block, note) {
    this.blocks.push(block);
    this.render(note);
    this.composer.refreshPreview();
  };

  Attachments.prototype.clear = function () {
    this.blocks = [];
    this.markers = [];
    this.render();
    this.renderMarkers();
  };

  Attachments.prototype.render = function (note) {
    var self = this;
    this.list.textContent = "";
    this.blocks.forEach(function (block, index) {
      var id = "attachment-" + (++self.count);
      var title = KIND_NAMES[block.type] + (block.provider && block.provider !== "other" ? " (" + block.provider + ")" : "");
      var fields = EDITABLE[block.type].map(function (spec) {
        var input = el(spec[2] ? "textarea" : "input", { id: id + "-" + spec[0], "data-block": index, "data-key": spec[0] });
        if (spec[2]) input.rows = 3;
        input.value = block[spec[0]] || "";
        return el("p", { "class": "field" }, [el("label", { "for": input.id, text: spec[1] }), input]);
      });
      self.list.appendChild(el("li", { "class": "attachment attachment-" + block.type }, [
        el("p", {}, [el("strong", { text: title }), document.createTextNode(block.url ? " " + block.url : "")]),
        note && index === self.blocks.length - 1 ? el("p", { "class": "error", role: "alert", text: note }) : null
      ].concat(fields, [
        el("button", { type: "button", "data-remove": index, text: "Remove", "aria-label": "Remove " + title })
      ])));
    });
  };

  Attachments.prototype.embed = function () {
    var self = this;
    var input = document.getElementById("embed-url");
    showError("embed-url-error", "");
    if (!input.value.trim()) return showError("embed-url-error", "Paste the link to a post or a video first.");
    api("POST", "/api/v1/embeds/resolve", { url: input.value.trim() }).then(function (result) {
      if (result.ok) {
        input.value = "";
        return self.add(result.data.block);
      }
      if (result.data.block) {
        input.value = "";
        return self.add(result.data.block, result.data.detail + " Fill in the post's author and text below.");
      }
      var errors = result.data.errors || [];
      showError("embed-url-error", errors.length ? "The link " + errors[0].message + "." : explain(result));
    });
  };

  Attachments.prototype.photo = function () {
    var self = this;
    var file = document.getElementById("photo-file");
    var alt = document.getElementById("photo-alt");
    showError("photo-file-error", file.files.length ? "" : "Choose a photo first.");
    showError("photo-alt-error", alt.value.trim() ? "" : "Describe the photo for readers who cannot see it.");
    if (!file.files.length || !alt.value.trim()) return;
    upload(file.files[0]).then(function (result) {
      if (!result.ok) return showError("photo-file-error", explain(result));
      var block = { type: "image", url: result.data.url, alt: alt.value.trim(), width: result.data.width, height: result.data.height };
      ["caption", "credit"].forEach(function (name) {
        var value = document.getElementById("photo-" + name).value.trim();
        if (value) block[name] = value;
      });
      ["photo-file", "photo-alt", "photo-caption", "photo-credit"].forEach(function (id) { document.getElementById(id).value = ""; });
      self.add(block);
    });
  };

  Attachments.prototype.marker = function () {
    var lat = parseFloat(document.getElementById("marker-lat").value);
    var lon = parseFloat(document.getElementById("marker-lon").value);
    if (!(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180)) {
      return showError("marker-error", "Give a latitude from -90 to 90 and a longitude from -180 to 180, or click the map.");
    }
    showError("marker-error", "");
    this.addMarker(lat, lon);
  };

  Attachments.prototype.addMarker = function (lat, lon) {
    var label = document.getElementById("marker-label");
    var marker = { lat: Math.round(lat * 1e5) / 1e5, lon: Math.round(lon * 1e5) / 1e5 };
    if (label.value.trim()) marker.label = label.value.trim();
    label.value = "";
    this.markers.push(marker);
    this.renderMarkers();
  };

  Attachments.prototype.renderMarkers = function () {
    var list = document.getElementById("markers");
    list.textContent = "";
    if (this.layer) this.layer.clearLayers();
    this.markers.forEach(function (marker, index) {
      var text = (marker.label ? marker.label + ": " : "") + marker.lat + ", " + marker.lon;
      list.appendChild(el("li", {}, [
        document.createTextNode(text + " "),
        el("button", { type: "button", "data-marker": index, text: "Remove", "aria-label": "Remove marker " + text })
      ]));
      if (this.layer) window.L.circleMarker([marker.lat, marker.lon], { radius: 7 }).addTo(this.layer);
    }, this);
  };

  Attachments.prototype.openMap = function () {
    var self = this;
    var holder = document.getElementById("map-picker");
    if (this.leafletMap || !holder.dataset.leaflet) return;
    function load(tag, attrs) {
      return new Promise(function (resolve, reject) {
        var node = el(tag, attrs);
        node.addEventListener("load", resolve);
        node.addEventListener("error", reject);
        document.head.appendChild(node);
      });
    }
    Promise.all([
      load("link", { rel: "stylesheet", href: holder.dataset.leafletCss }),
      load("script", { src: holder.dataset.leaflet })
    ]).then(function () {
      var L = window.L;
      self.leafletMap = L.map(holder).setView([20, 0], 2);
      L.tileLayer(holder.dataset.tiles, { attribution: holder.dataset.attribution }).addTo(self.leafletMap);
      self.layer = L.layerGroup().addTo(self.leafletMap);
      self.leafletMap.on("click", function (event) { self.addMarker(event.latlng.lat, event.latlng.lng); });
      self.renderMarkers();
    });
  };

  Attachments.prototype.map = function () {
    var self = this;
    if (!this.markers.length) return showError("map-error", "Add at least one marker: type its coordinates or click the map.");
    showError("map-error", "");
    var first = this.markers[0];
    var block = { type: "map", center: { lat: first.lat, lon: first.lon }, zoom: this.leafletMap ? this.leafletMap.getZoom() : 10, markers: this.markers.slice() };
    ["caption", "credit"].forEach(function (name) {
      var value = document.getElementById("map-" + name).value.trim();
      if (value) block[name] = value;
    });
    var file = document.getElementById("map-image");
    var alt = document.getElementById("map-image-alt").value.trim();
    var done = function () {
      ["map-caption", "map-credit", "map-image", "map-image-alt"].forEach(function (id) { document.getElementById(id).value = ""; });
      self.markers = [];
      self.renderMarkers();
      self.add(block);
    };
    if (!file.files.length) return done();
    if (!alt) return showError("map-error", "Describe the static image for readers who cannot see it.");
    upload(file.files[0]).then(function (result) {
      if (!result.ok) return showError("map-error", explain(result));
      block.image = { url: result.data.url, alt: alt };
      done();
    });
  };

  // The stream: the blog's entries, newest first, refreshed every few seconds, with edit
  // in place, pin, key event, history and delete. Every change names the version it was
  // made on (If-Match), so nobody overwrites an edit they have not seen.

  var STATUS_NAMES = { published: "Published", scheduled: "Scheduled", draft: "Draft", deleted: "Deleted" };

  function Stream(root) {
    this.base = root.dataset.api;
    this.isEditor = root.dataset.role !== "contributor";
    this.userId = Number(root.dataset.user);
    this.list = document.getElementById("stream");
    this.entries = {};
    this.refreshCount = 0;
    this.latestRefresh = null;
    var self = this;
    this.list.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-act]");
      if (!button) return;
      var item = button.closest(".item");
      if (button.closest(".item-actions")) self.opener = button.dataset.act;
      self.act(button.dataset.act, self.entries[item.dataset.id], item, button);
    });
    this.list.addEventListener("submit", function (event) {
      event.preventDefault();
      var item = event.target.closest(".item");
      var entry = self.entries[item.dataset.id];
      if (event.target.classList.contains("return-form")) self.returnDraft(entry, item, event.target);
      else self.saveEdit(entry, item, event.target);
    });
    this.list.addEventListener("keydown", function (event) {
      var item = event.target.closest(".item");
      if (event.key !== "Escape" || !item || !item.querySelector(".item-panel").childNodes.length) return;
      self.close(item).then(function () {
        var again = document.querySelector("#item-" + item.dataset.id + " button[data-act]");
        var same = document.querySelector("#item-" + item.dataset.id + " button[data-act=" + (self.opener || "edit") + "]");
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
    var self = this;
    var count = ++this.refreshCount;
    this.latestRefresh = api("GET", this.base + "/entries?limit=100").then(function (result) {
      if (count !== self.refreshCount) return self.latestRefresh;
      if (!result.ok) return;
      var seen = {};
      var previous = null;
      result.data.items.forEach(function (entry) {
        if (entry.status === "deleted") return;
        seen[entry.id] = true;
        var item = document.getElementById("item-" + entry.id);
        var busy = item && item.querySelector(".item-panel").childNodes.length;
        if (!item || (!busy && Number(item.dataset.version) !== entry.version)) {
          var fresh = self.render(entry);
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

  Stream.prototype.render = function (entry) {
    var name = "update " + entry.id;
    function button(act, text, pressed) {
      var attrs = { type: "button", "data-act": act, "aria-label": text + " (" + name + ")" };
      if (pressed !== undefined) attrs["aria-pressed"] = String(pressed);
      return el("button", Object.assign(attrs, { text: text }));
    }
    var status = STATUS_NAMES[entry.status];
    var state = entry.status;
    if (entry.review === "pending") { status = "Waiting for review"; state = "pending"; }
    if (entry.review === "returned") { status = "Returned to author"; state = "pending"; }
    var meta = el("div", { "class": "item-meta" }, [
      el("span", { "class": "status status-" + state, text: status }),
      entry.label ? el("span", { "class": "item-label", text: entry.label }) : null,
      el("span", { text: "by " + entry.author.name }),
      entry.pinned ? el("span", { "class": "status", text: "Pinned" }) : null,
      entry.key_event ? el("span", { "class": "status", text: "Key event" }) : null
    ]);
    var body = el("div", { "class": "item-body" }, [
      entry.review_note ? el("p", { "class": "review-note", text: "Editor's note: " + entry.review_note }) : null,
      entry.headline ? el("h3", { text: entry.headline }) : null,
      el("div", { html: entry.html })
    ]);
    var draft = entry.status === "draft";
    var buttons;
    if (this.isEditor) {
      buttons = [
        draft ? button("publish", "Publish") : null,
        entry.review === "pending" ? button("return", "Return to author") : null,
        button("edit", "Edit"),
        button("pin", entry.pinned ? "Unpin" : "Pin", entry.pinned),
        button("key", "Key event", entry.key_event),
        button("history", "History"),
        button("delete", "Delete")
      ];
    } else if (draft && entry.author.id === this.userId) {
      buttons = [
        entry.review !== "pending" ? button("submit", "Submit for review") : null,
        button("edit", "Edit"),
        button("history", "History"),
        button("delete", "Delete")
      ];
    } else {
      buttons = [];
    }
    var actions = el("div", { "class": "item-actions" }, buttons);
    return el("li", { "class": "item", id: "item-" + entry.id, "data-id": entry.id, "data-version": entry.version }, [
      meta, body, actions, el("div", { "class": "item-panel" })
    ]);
  };

  Stream.prototype.panel = function (item, children) {
    var panel = item.querySelector(".item-panel");
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
    var panel = item.querySelector(".item-panel");
    var old = panel.querySelector(".error");
    if (old) old.remove();
    var note = el("p", { "class": "error", role: "alert", text: message });
    panel.insertBefore(note, panel.firstChild);
  };

  Stream.prototype.change = function (entry, data, version) {
    return api("PATCH", this.path(entry), data, { "If-Match": '"' + (version || entry.version) + '"' });
  };

  Stream.prototype.act = function (act, entry, item, button) {
    var self = this;
    if (act === "cancel") return this.close(item);
    if (act === "edit") return this.openEditor(entry, item);
    if (act === "history") return this.showHistory(entry, item);
    if (act === "return") {
      var note = el("textarea", { id: "return-" + entry.id, name: "note", rows: "3", maxlength: "1000" });
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
      var confirm = el("button", { type: "button", "class": "danger", "data-act": "confirm-delete", text: "Delete for good" });
      this.panel(item, [
        el("p", { text: "Delete this update? Readers will no longer see it." }),
        el("p", { "class": "actions" }, [confirm, el("button", { type: "button", "data-act": "cancel", text: "Keep it" })])
      ]);
      return confirm.focus();
    }
    var request;
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
      var revision = JSON.parse(button.dataset.revision);
      request = this.change(entry, { headline: revision.headline, blocks: revision.blocks });
    } else {
      return;
    }
    request.then(function (result) {
      if (result.ok) return self.close(item);
      if (result.status === 412) {
        self.close(item).then(function () {
          var fresh = document.getElementById("item-" + entry.id);
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
    var self = this;
    this.change(entry, { review: "returned", review_note: form.note.value.trim() || null }).then(function (result) {
      if (result.ok) return self.close(item);
      self.problem(item, explain(result));
    });
  };

  Stream.prototype.openEditor = function (entry, item) {
    var prefix = "edit-" + entry.id + "-";
    var fields = [
      el("p", { "class": "field" }, [
        el("label", { "for": prefix + "headline", text: "Headline" }),
        el("input", { id: prefix + "headline", name: "headline", maxlength: "300" })
      ])
    ];
    entry.blocks.forEach(function (block, index) {
      if (block.type === "text") {
        var area = el("textarea", { id: prefix + "text-" + index, name: "text-" + index, rows: "6" });
        area.value = block.markdown;
        fields.push(el("p", { "class": "field" }, [el("label", { "for": area.id, text: "Text" }), area]));
      } else {
        fields.push(el("p", { "class": "hint", text: "A " + block.type + " block, kept as it is." }));
      }
    });
    var form = el("form", { "class": "edit-form", novalidate: "" }, fields.concat([
      el("p", { "class": "actions" }, [
        el("button", { type: "submit", "class": "primary", text: "Save changes" }),
        el("button", { type: "button", "data-act": "cancel", text: "Cancel" })
      ])
    ]));
    form.headline.value = entry.headline || "";
    form.dataset.version = entry.version;
    this.panel(item, [form]);
    form.headline.focus();
  };

  Stream.prototype.edited = function (entry, form) {
    return {
      headline: form.headline.value.trim() || null,
      blocks: entry.blocks.map(function (block, index) {
        return block.type === "text" ? { type: "text", markdown: form["text-" + index].value } : block;
      })
    };
  };

  Stream.prototype.saveEdit = function (entry, item, form) {
    var self = this;
    var mine = this.edited(entry, form);
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
    var self = this;
    function text(version) {
      return (version.headline ? version.headline + "\n\n" : "") + version.blocks.map(function (block) {
        return block.type === "text" ? block.markdown : "[" + block.type + "]";
      }).join("\n\n");
    }
    var keep = el("button", { type: "button", "class": "primary", text: "Keep my version" });
    var take = el("button", { type: "button", text: "Use their version" });
    this.panel(item, [
      el("p", { "class": "error", role: "alert", text: "Someone else saved this update while you were editing it. Choose which version to keep." }),
      el("div", { "class": "versions" }, [
        el("div", { "class": "version version-theirs" }, [el("h4", { text: "Their version (saved)" }), el("pre", { text: text(theirs) })]),
        el("div", { "class": "version version-mine" }, [el("h4", { text: "Your version (not saved)" }), el("pre", { text: text(mine) })])
      ]),
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
    var self = this;
    api("GET", this.path(entry) + "/revisions").then(function (result) {
      if (!result.ok) return self.problem(item, explain(result));
      var list = el("ol", { "class": "revisions", reversed: "" }, result.data.items.map(function (revision) {
        var when = new Date(revision.created_at).toLocaleString();
        var words = revision.blocks.map(function (block) { return block.type === "text" ? block.markdown : "[" + block.type + "]"; }).join(" ");
        var restore = revision.version === entry.version ? el("span", { "class": "hint", text: "(current)" }) :
          el("button", { type: "button", "data-act": "restore", "data-revision": JSON.stringify(revision),
                         text: "Restore", "aria-label": "Restore version " + revision.version });
        return el("li", {}, [
          el("p", { text: "Version " + revision.version + ", " + STATUS_NAMES[revision.status].toLowerCase() + ", by " + revision.editor.name + " at " + when }),
          el("p", { "class": "hint", text: (revision.headline ? revision.headline + " — " : "") + words.slice(0, 200) }),
          restore
        ]);
      }));
      self.panel(item, [el("h4", { text: "History" }), list, el("button", { type: "button", "data-act": "cancel", text: "Close" })]);
    });
  };

  function init() {
    suggestSlug();
    var root = document.getElementById("editor");
    if (root) {
      new Composer(root);
      new Stream(root);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
