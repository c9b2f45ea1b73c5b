// A pane showing updates as readers see them: a same-origin iframe of the blog's theme (its
// styles, its map.js and Leaflet), which the editor fills and sizes to its content. Links
// inside stay put: the pane is for looking, the editor is for working.

export function ReaderFrame(iframe) {
  const self = this;
  this.iframe = iframe;
  this.ready = new Promise(function (resolve) {
    const doc = iframe.contentDocument;
    if (doc && doc.readyState === "complete" && doc.getElementById("updates")) resolve();
    else iframe.addEventListener("load", resolve, { once: true });
  }).then(function () {
    const doc = iframe.contentDocument;
    doc.addEventListener("click", function (event) {
      if (event.target.closest("a[href]")) event.preventDefault();
    });
    new iframe.contentWindow.ResizeObserver(function () { self.fit(); }).observe(doc.documentElement);
    return doc;
  });
}

ReaderFrame.prototype.fit = function () {
  const doc = this.iframe.contentDocument;
  if (doc && doc.body) this.iframe.style.height = Math.ceil(doc.body.getBoundingClientRect().height) + "px";
};

// Shows ``html`` (the theme's rendering, sanitised by the server); resolves once it is in.
ReaderFrame.prototype.show = function (html) {
  const self = this;
  return this.ready.then(function (doc) {
    self.iframe.hidden = false;
    doc.getElementById("updates").innerHTML = html;
    self.fit();
    return doc;
  });
};

ReaderFrame.prototype.clear = function () {
  this.iframe.hidden = true;
  return this.ready.then(function (doc) { doc.getElementById("updates").textContent = ""; });
};

// An update's own frame in the stream, written from the theme's page ``shell`` (what the
// reader frame serves) with ``html`` in its list: no request, since srcdoc needs none and
// the theme's assets are cached. Its links leave the Tab order (the stream's buttons are
// what editors tab through) and it grows to its content once loaded.
export function updateFrame(shell, html, title) {
  const doc = new DOMParser().parseFromString(shell, "text/html");
  doc.getElementById("updates").innerHTML = html;
  const iframe = document.createElement("iframe");
  iframe.className = "reader-frame";
  iframe.title = title;
  iframe.srcdoc = "<!DOCTYPE html>" + doc.documentElement.outerHTML;
  iframe.addEventListener("load", function () {
    const inner = iframe.contentDocument;
    inner.querySelectorAll("a[href], iframe, [tabindex]").forEach(function (node) { node.tabIndex = -1; });
    inner.addEventListener("click", function (event) {
      if (event.target.closest("a[href]")) event.preventDefault();
    });
    const fit = function () { iframe.style.height = Math.ceil(inner.body.getBoundingClientRect().height) + "px"; };
    new iframe.contentWindow.ResizeObserver(fit).observe(inner.body);
    fit();
  });
  return iframe;
}
