// What the composer adds to an update besides its text: a post or video looked up by
// its link (a snapshot the editor can correct), a photo with its alt text, a map.
// onChange is called whenever the blocks added change, to refresh the preview.
import { api, explain, upload } from "./api.js";
import { el } from "./dom.js";
import { coordinatesFrom } from "./geo.js";

const EDITABLE = {
  social: [["author_name", "Author"], ["author_handle", "Handle"], ["text", "Text of the post", true]],
  video: [["title", "Title"], ["caption", "Caption"]],
  image: [["alt", "Alt text"], ["caption", "Caption"], ["credit", "Credit"]],
  map: [["caption", "Caption"], ["credit", "Credit"]]
};
const KIND_NAMES = { social: "Post", video: "Video", image: "Photo", map: "Map" };
const MARKER_FIELDS = ["marker-lat", "marker-lon", "marker-label", "marker-link"];

function markerText(marker) {
  return (marker.label ? marker.label + ": " : "") + marker.lat + ", " + marker.lon;
}

// What a map attachment's card shows besides its caption and credit: its places, and the
// static image when it has one.
function mapSummary(block) {
  return [
    block.image ? el("img", { "class": "attachment-thumbnail", src: block.image.url, alt: block.image.alt }) : null,
    el("ul", { "class": "attachment-places", "aria-label": "Places on this map" }, block.markers.map(function (marker) {
      return el("li", { text: markerText(marker) });
    }))
  ];
}

function showError(id, message) {
  const slot = document.getElementById(id);
  slot.textContent = message || "";
  slot.hidden = !message;
  const input = document.getElementById(id.replace(/-error$/, ""));
  if (input && input.tagName !== "BUTTON") {
    if (message) { input.setAttribute("aria-invalid", "true"); input.setAttribute("aria-describedby", id); }
    else { input.removeAttribute("aria-invalid"); input.removeAttribute("aria-describedby"); }
  }
}

export function Attachments(onChange) {
  this.onChange = onChange;
  this.blocks = [];
  this.markers = [];
  this.list = document.getElementById("attachments");
  this.count = 0;
  const self = this;
  document.querySelector(".attachments").addEventListener("click", function (event) {
    const button = event.target.closest("button[data-add]");
    if (button) self[button.dataset.add](button);
  });
  this.list.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-remove]");
    if (!button) return;
    self.blocks.splice(Number(button.dataset.remove), 1);
    self.render();
    onChange();
  });
  this.list.addEventListener("input", function (event) {
    const input = event.target;
    const block = self.blocks[Number(input.dataset.block)];
    if (input.value.trim()) block[input.dataset.key] = input.value; else delete block[input.dataset.key];
  });
  document.getElementById("markers").addEventListener("click", function (event) {
    const button = event.target.closest("button[data-marker]");
    if (!button) return;
    self.markers.splice(Number(button.dataset.marker), 1);
    self.renderMarkers();
  });
  document.getElementById("marker-link").addEventListener("paste", function (event) { self.pasteLink(event); });
  document.getElementById("marker-link").addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); self.marker(); }
  });
  document.getElementById("add-map").addEventListener("toggle", function (event) {
    if (event.target.open) self.openMap();
  });
}

Attachments.prototype.add = function (block, note) {
  this.blocks.push(block);
  this.render(note);
  this.onChange();
};

Attachments.prototype.clear = function () {
  this.blocks = [];
  this.markers = [];
  this.render();
  this.renderMarkers();
};

Attachments.prototype.render = function (note) {
  const self = this;
  this.list.textContent = "";
  this.blocks.forEach(function (block, index) {
    const id = "attachment-" + (++self.count);
    const title = KIND_NAMES[block.type] + (block.provider && block.provider !== "other" ? " (" + block.provider + ")" : "");
    const fields = EDITABLE[block.type].map(function (spec) {
      const input = el(spec[2] ? "textarea" : "input", { id: id + "-" + spec[0], "data-block": index, "data-key": spec[0] });
      if (spec[2]) input.rows = 3;
      input.value = block[spec[0]] || "";
      return el("p", { "class": "field" }, [el("label", { "for": input.id, text: spec[1] }), input]);
    });
    self.list.appendChild(el("li", { "class": "attachment attachment-" + block.type }, [
      el("p", {}, [el("strong", { text: title }), document.createTextNode(block.url ? " " + block.url : "")]),
      note && index === self.blocks.length - 1 ? el("p", { "class": "error", role: "alert", text: note }) : null
    ].concat(block.type === "map" ? mapSummary(block) : [], fields, [
      el("button", { type: "button", "data-remove": index, text: "Remove", "aria-label": "Remove " + title })
    ])));
  });
};

Attachments.prototype.embed = function () {
  const self = this;
  const input = document.getElementById("embed-url");
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
    const errors = result.data.errors || [];
    showError("embed-url-error", errors.length ? "The link " + errors[0].message + "." : explain(result));
  });
};

Attachments.prototype.photo = function () {
  const self = this;
  const file = document.getElementById("photo-file");
  const alt = document.getElementById("photo-alt");
  showError("photo-file-error", file.files.length ? "" : "Choose a photo first.");
  showError("photo-alt-error", alt.value.trim() ? "" : "Describe the photo for readers who cannot see it.");
  if (!file.files.length || !alt.value.trim()) return;
  upload(file.files[0]).then(function (result) {
    if (!result.ok) return showError("photo-file-error", explain(result));
    const block = { type: "image", url: result.data.url, alt: alt.value.trim(), width: result.data.width, height: result.data.height };
    ["caption", "credit"].forEach(function (name) {
      const value = document.getElementById("photo-" + name).value.trim();
      if (value) block[name] = value;
    });
    ["photo-file", "photo-alt", "photo-caption", "photo-credit"].forEach(function (id) { document.getElementById(id).value = ""; });
    self.add(block);
  });
};

Attachments.prototype.marker = function () {
  const link = document.getElementById("marker-link").value.trim();
  if (link) {
    const found = coordinatesFrom(link);
    if (!found) {
      return showError("marker-error", "That link carries no coordinates. Copy the address of a map view (OpenStreetMap or Google Maps) or a geo: URI, or type the latitude and longitude.");
    }
    showError("marker-error", "");
    return this.addMarker(found.lat, found.lon);
  }
  const lat = parseFloat(document.getElementById("marker-lat").value);
  const lon = parseFloat(document.getElementById("marker-lon").value);
  if (!(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180)) {
    return showError("marker-error", "Give a latitude from -90 to 90 and a longitude from -180 to 180, paste a map link, or click the map.");
  }
  showError("marker-error", "");
  this.addMarker(lat, lon);
};

// A link pasted on its own adds its place at once; anything else stays for "Add marker".
Attachments.prototype.pasteLink = function (event) {
  const found = coordinatesFrom((event.clipboardData || { getData: function () { return ""; } }).getData("text"));
  if (!found) return;
  event.preventDefault();
  showError("marker-error", "");
  this.addMarker(found.lat, found.lon);
};

Attachments.prototype.addMarker = function (lat, lon) {
  const label = document.getElementById("marker-label");
  const marker = { lat: Math.round(lat * 1e5) / 1e5, lon: Math.round(lon * 1e5) / 1e5 };
  if (label.value.trim()) marker.label = label.value.trim();
  MARKER_FIELDS.forEach(function (id) { document.getElementById(id).value = ""; });
  this.markers.push(marker);
  this.renderMarkers();
  this.fitMarkers();
};

// The picker follows the markers: all of them in view, not closer than a street.
Attachments.prototype.fitMarkers = function () {
  if (!this.leafletMap || !this.markers.length) return;
  const points = this.markers.map(function (marker) { return [marker.lat, marker.lon]; });
  this.leafletMap.fitBounds(window.L.latLngBounds(points), { padding: [24, 24], maxZoom: Math.max(this.leafletMap.getZoom(), 12) });
};

Attachments.prototype.renderMarkers = function () {
  const list = document.getElementById("markers");
  list.textContent = "";
  if (this.layer) this.layer.clearLayers();
  this.markers.forEach(function (marker, index) {
    const text = markerText(marker);
    list.appendChild(el("li", {}, [
      document.createTextNode(text + " "),
      el("button", { type: "button", "data-marker": index, text: "Remove", "aria-label": "Remove marker " + text })
    ]));
    if (this.layer) window.L.circleMarker([marker.lat, marker.lon], { radius: 7 }).addTo(this.layer);
  }, this);
};

Attachments.prototype.openMap = function () {
  const self = this;
  const holder = document.getElementById("map-picker");
  if (this.leafletMap || !holder.dataset.leaflet) return;
  function load(tag, attrs) {
    return new Promise(function (resolve, reject) {
      const node = el(tag, attrs);
      node.addEventListener("load", resolve);
      node.addEventListener("error", reject);
      document.head.appendChild(node);
    });
  }
  Promise.all([
    load("link", { rel: "stylesheet", href: holder.dataset.leafletCss }),
    load("script", { src: holder.dataset.leaflet })
  ]).then(function () {
    const L = window.L;
    const start = [parseFloat(holder.dataset.lat), parseFloat(holder.dataset.lon)];
    self.leafletMap = L.map(holder).setView(start, parseFloat(holder.dataset.zoom));
    L.tileLayer(holder.dataset.tiles, { attribution: holder.dataset.attribution }).addTo(self.leafletMap);
    self.layer = L.layerGroup().addTo(self.leafletMap);
    self.leafletMap.on("click", function (event) { self.addMarker(event.latlng.lat, event.latlng.lng); });
    self.renderMarkers();
    self.fitMarkers();
  });
};

// The map block's centre: the picker's view once it has fitted the markers, else the first.
Attachments.prototype.mapCenter = function () {
  if (!this.leafletMap) return { lat: this.markers[0].lat, lon: this.markers[0].lon };
  const center = this.leafletMap.getCenter().wrap();
  return { lat: Math.round(center.lat * 1e5) / 1e5, lon: Math.round(center.lng * 1e5) / 1e5 };
};

Attachments.prototype.map = function () {
  const self = this;
  if (!this.markers.length) return showError("map-error", "Add at least one marker: type its coordinates or click the map.");
  showError("map-error", "");
  const block = { type: "map", center: this.mapCenter(), zoom: this.leafletMap ? this.leafletMap.getZoom() : 10, markers: this.markers.slice() };
  ["caption", "credit"].forEach(function (name) {
    const value = document.getElementById("map-" + name).value.trim();
    if (value) block[name] = value;
  });
  const file = document.getElementById("map-image");
  const alt = document.getElementById("map-image-alt").value.trim();
  const done = function () {
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
