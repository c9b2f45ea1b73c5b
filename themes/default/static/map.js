// Turns each map block into an interactive Leaflet map once it scrolls into view.
// Leaflet is loaded from this site, only when the first map is about to be seen. The map is
// laid over the block's box, which keeps its size: the static image or list of places in it
// stays until a tile has arrived, and stays for good if none can.
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !document.querySelector || !window.Promise) return;
  var settings = {
    leaflet: script.getAttribute("data-leaflet"),
    leafletCss: script.getAttribute("data-leaflet-css"),
    tiles: script.getAttribute("data-tiles"),
    attribution: script.getAttribute("data-attribution") || "",
    // The page's words, in the blog's language: this script holds none of its own.
    label: script.getAttribute("data-map-label") || "",
    labelCaptioned: script.getAttribute("data-map-label-captioned") || ""
  };
  var loading = null;
  var observer = null;

  function load(tag, attributes) {
    return new Promise(function (resolve, reject) {
      var node = document.createElement(tag);
      Object.keys(attributes).forEach(function (name) { node[name] = attributes[name]; });
      node.onload = resolve;
      node.onerror = reject;
      document.head.appendChild(node);
    });
  }

  // The tiles' server is met while Leaflet loads, not after.
  function preconnect() {
    var origin;
    try {
      origin = new URL(settings.tiles.replace(/\{[a-z]\}/g, "a"), document.baseURI).origin;
    } catch (error) {
      return;
    }
    if (origin === window.location.origin) return;
    var link = document.createElement("link");
    link.rel = "preconnect";
    link.href = origin;
    document.head.appendChild(link);
  }

  function leaflet() {
    if (!loading) {
      preconnect();
      loading = Promise.all([
        load("link", { rel: "stylesheet", href: settings.leafletCss }),
        load("script", { src: settings.leaflet })
      ]).then(function () { return window.L; });
    }
    return loading;
  }

  function number(node, name) {
    var value = parseFloat(node.getAttribute(name));
    return isFinite(value) ? value : null;
  }

  // Labels are the editors' text: given to Leaflet as text nodes, never as HTML.
  function label(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  function show(L, figure) {
    var lat = number(figure, "data-lat");
    var lon = number(figure, "data-lon");
    if (lat === null || lon === null) return;
    var canvas = document.createElement("div");
    canvas.className = "map-canvas";
    var caption = figure.querySelector("figcaption");
    var captionText = caption ? caption.textContent.trim() : "";
    var captioned = settings.labelCaptioned.replace("%(caption)s", function () {
      return captionText;
    });
    canvas.setAttribute("aria-label", captionText ? captioned : settings.label);
    var box = figure.querySelector(".map-box");
    if (!box) {
      // Stored before maps had their box (until `liveblog rerender`): the map gets one on top.
      box = document.createElement("div");
      box.className = "map-box";
      figure.insertBefore(box, figure.firstChild);
    }
    box.insertBefore(canvas, box.firstChild);
    figure.classList.add("map-loading");

    var map = L.map(canvas, { scrollWheelZoom: false }).setView([lat, lon], number(figure, "data-zoom") || 10);
    // detectRetina: on high-density screens, tiles of the next zoom at half size, so the map is sharp.
    var tiles = L.tileLayer(settings.tiles, { attribution: settings.attribution, maxZoom: 19, detectRetina: true });
    var shown = false;
    tiles.on("tileload", function () {
      if (shown) return;
      shown = true;
      figure.classList.remove("map-loading");
      figure.classList.add("map-live");
      figure.setAttribute("data-map-state", "live");
    });
    // "load" fires once every tile in view has arrived or failed: none arrived, no map.
    tiles.on("load", function () {
      if (shown) return;
      setTimeout(function () {
        map.remove();
        canvas.remove();
        figure.classList.remove("map-loading");
        figure.classList.add("map-failed");
        figure.setAttribute("data-map-state", "failed");
      }, 0);
    });
    tiles.addTo(map);

    // Leaflet's own pin without its shadow, which has no high-density copy to be sharp with.
    var pin = new (L.Icon.Default.extend({ createShadow: function () { return null; } }))();
    var places = figure.querySelectorAll(".map-places li[data-lat]");
    Array.prototype.forEach.call(places, function (place) {
      var placeLat = number(place, "data-lat");
      var placeLon = number(place, "data-lon");
      if (placeLat === null || placeLon === null) return;
      L.marker([placeLat, placeLon], { icon: pin, title: place.textContent.trim() })
        .bindTooltip(label(place.textContent.trim()))
        .addTo(map);
    });

    var geojson = figure.getAttribute("data-geojson");
    if (geojson) {
      try {
        L.geoJSON(JSON.parse(geojson), {
          onEachFeature: function (feature, layer) {
            var properties = feature.properties || {};
            var name = properties.name || properties.title || properties.label;
            if (typeof name === "string" && name) layer.bindTooltip(label(name));
          }
        }).addTo(map);
      } catch (error) {
        // The places and the tiles are still worth showing without the drawing.
      }
    }
  }

  function start(figure) {
    if (figure.getAttribute("data-map-state")) return;
    figure.setAttribute("data-map-state", "started");
    leaflet().then(function (L) {
      if (L && figure.isConnected) show(L, figure);
    }, function () {
      figure.setAttribute("data-map-state", "failed");
    });
  }

  function watch(root) {
    var figures = root.querySelectorAll ? root.querySelectorAll(".block-map:not([data-map-state])") : [];
    Array.prototype.forEach.call(figures, function (figure) {
      if (observer) observer.observe(figure);
      else start(figure);
    });
  }

  if (window.IntersectionObserver) {
    observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        observer.unobserve(entry.target);
        start(entry.target);
      });
    }, { rootMargin: "200px 0px" });
  }
  watch(document);
  // Updates inserted by the live page bring their maps with them.
  if (window.MutationObserver) {
    new MutationObserver(function (records) {
      records.forEach(function (record) {
        Array.prototype.forEach.call(record.addedNodes, function (node) {
          if (node.nodeType !== 1) return;
          if (node.matches(".block-map:not([data-map-state])")) watch(node.parentNode);
          else watch(node);
        });
      });
    }).observe(document.body || document.documentElement, { childList: true, subtree: true });
  }
})();
