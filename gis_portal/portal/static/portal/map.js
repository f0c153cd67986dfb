/* The planners' map: districts by cluster (GeoJSON), the dense layers as vector tiles
   (/tiles/{layer}/{z}/{x}/{y}.pbf through Leaflet.VectorGrid), coverage gaps (GeoJSON), a cluster
   filter on every layer, search, click to locate, legends, and the view kept in the URL hash.
   Text from the database reaches the page only as text nodes (portal/dom.js), never as HTML. */
(function () {
  "use strict";

  var el = window.portalDom.el, fill = window.portalDom.fill, readJSON = window.portalDom.readJSON;

  function getJSON(url) {
    return fetch(url).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    });
  }

  // Layer keys in the URL, in the order of the layer control.
  var ORDER = ["districts", "townships", "villages", "placenames", "facilities", "lines", "markers", "gaps"];
  var DEFAULT_LAYERS = ["districts", "lines"];
  // Vector-tile layers: URL layer name and the zoom from which they are drawn (as the tiles).
  var TILE_LAYERS = {
    townships: { name: "townships", minZoom: 7, z: 410 },
    villages: { name: "villages", minZoom: 10, z: 440 },
    placenames: { name: "placenames", minZoom: 6, z: 450 },
    facilities: { name: "facilities", minZoom: 9, z: 460 },
    lines: { name: "boundary-lines", minZoom: 5, z: 420 },
    markers: { name: "markers", minZoom: 9, z: 470 }
  };

  function parseHash() {
    var state = {};
    window.location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      var i = part.indexOf("=");
      if (i > 0) { state[part.slice(0, i)] = decodeURIComponent(part.slice(i + 1)); }
    });
    var view = (state.map || "").split("/").map(Number);
    return {
      view: view.length === 3 && view.every(isFinite) ? { zoom: view[0], lat: view[1], lng: view[2] } : null,
      layers: state.layers !== undefined ? state.layers.split(",").filter(function (k) { return ORDER.indexOf(k) >= 0; }) : null,
      cluster: state.cluster || "",
      gap: state.gap || "",
      date: /^\d{4}-\d{2}-\d{2}$/.test(state.date || "") ? state.date : ""
    };
  }

  // VectorGrid draws points as CircleMarkers without a latlng; Leaflet 1.9 asks a small marker for
  // getLatLng() on click, so hide it and let the click's own position be used.
  var createLayer = L.VectorGrid.prototype._createLayer;
  L.VectorGrid.prototype._createLayer = function (feat, pxPerExtent) {
    var layer = createLayer.call(this, feat, pxPerExtent);
    if (layer instanceof L.CircleMarker) { layer.getLatLng = null; }
    return layer;
  };

  window.portalMapInit = function (map) {
    window.portalMap = map;  // for tests and the console
    var config = readJSON("portal-config");
    var clusters = readJSON("clusters-data");
    var legendData = readJSON("legend-data");
    var labels = readJSON("portal-labels");
    var english = config.lang === "en";
    var colors = {}, clusterNames = {};
    clusters.forEach(function (c) { colors[c.slug] = c.color; clusterNames[c.slug] = english ? c.name_en : c.name; });
    var categoryColors = {}, categoryLabels = {}, lineColors = {}, markerColors = {};
    legendData.categories.forEach(function (c) { categoryColors[c.value] = c.color; categoryLabels[c.value] = c.label; });
    legendData.line_statuses.forEach(function (c) { lineColors[c.value] = c.color; });
    legendData.marker_statuses.forEach(function (c) { markerColors[c.value] = c.color; });
    var resultBox = document.getElementById("locate-result");
    var featureBox = document.getElementById("feature-result");
    var clusterSelect = document.getElementById("cluster-filter");
    var gapSelect = document.getElementById("gap-category");
    var initial = parseHash();
    var dateInput = document.getElementById("date-filter");  // absent when no division history is loaded
    var dateNote = document.getElementById("date-note");
    var state = { cluster: initial.cluster, gap: initial.gap || gapSelect.value, date: dateInput ? initial.date : "" };
    if (dateInput && state.date && state.date < dateInput.min) { state.date = ""; }
    if (dateInput) { dateInput.value = state.date; }
    if (clusters.every(function (c) { return c.slug !== state.cluster; })) { state.cluster = ""; }
    clusterSelect.value = state.cluster;
    gapSelect.value = state.gap;
    if (gapSelect.value !== state.gap) { state.gap = gapSelect.value; }
    var lastFeatureClick = 0;

    function synthetic(props) {
      return props.is_synthetic ? [" ", el("span", { "class": "badge" }, labels.synthetic)] : null;
    }

    // A feature's attributes, as the panel's and the popup's content (two copies: a node has one place).
    function featureContent(title, props, link) {
      var rows = Object.keys(props).filter(function (k) { return k !== "is_synthetic"; }).map(function (k) {
        var value = props[k];
        return el("tr", null, [el("th", null, k), el("td", null, value === null || value === undefined ? "" : String(value))]);
      });
      return el("div", { "class": "feature-popup" }, [
        el("strong", null, title === null || title === undefined ? "" : String(title)), synthetic(props),
        el("table", { "class": "attrs" }, rows),
        link ? el("a", { "class": "feature-link", href: link }, labels.openPage) : null
      ]);
    }

    function showFeature(latlng, title, props, link) {
      fill(featureBox, featureContent(title, props, link));
      L.popup({ maxWidth: 320 }).setLatLng(latlng).setContent(featureContent(title, props, link)).openOn(map);
    }

    // ---- districts (the base: real boundaries, coloured by cluster, filtered on the client)
    var districts = L.geoJSON(null, {
      filter: function (feature) { return !state.cluster || feature.properties.cluster === state.cluster; },
      style: function (feature) {
        return { color: "#444", weight: 1, fillColor: colors[feature.properties.cluster] || "#999", fillOpacity: 0.45 };
      },
      onEachFeature: function (feature, path) {
        path.bindTooltip(window.portalDom.text(feature.properties.name), { sticky: true, className: "district-tooltip" });
        path.on("mouseover", function () { path.setStyle({ weight: 3, fillOpacity: 0.65 }); });
        path.on("mouseout", function () { districts.resetStyle(path); });
      }
    });
    var districtData = null;
    function drawDistricts() {
      districts.clearLayers();
      if (districtData) { districts.addData(districtData); }
      document.getElementById("map").setAttribute("data-loaded", districts.getLayers().length);
    }

    // ---- vector-tile layers
    function tileStyle(key) {
      var dash = function (p) { return p.is_synthetic ? "3 3" : null; };
      return {
        townships: function (p) { return { color: "#555", weight: 1, dashArray: dash(p), fill: true, fillOpacity: 0.05, fillColor: "#888" }; },
        villages: function (p) {
          return { radius: 3, weight: 1, color: p.kind === "community" ? "#08519c" : "#238b45", dashArray: dash(p),
            fill: true, fillColor: "#fff", fillOpacity: p.is_synthetic ? 0.2 : 0.9 };
        },
        placenames: function (p) {
          return { radius: p.rank <= 1 ? 5 : p.rank <= 2 ? 4 : 2.5, weight: 1, color: "#333", fill: true,
            fillColor: "#ffd92f", fillOpacity: p.is_synthetic ? 0.35 : 0.9, dashArray: dash(p) };
        },
        facilities: function (p) {
          return { radius: 5, weight: 1.5, color: "#222", dashArray: dash(p), fill: true,
            fillColor: categoryColors[p.category] || "#999", fillOpacity: 0.9 };
        },
        lines: function (p) {
          var weight = p.level === "township" ? 1.5 : p.level === "county" ? 2.5 : 3.5;
          var line = { color: lineColors[p.status] || "#555", weight: weight, dashArray: p.is_synthetic && p.level === "township" ? "4 3" : null };
          // Overdue (never inspected, or not within the 5-year cycle): a dark halo under the line.
          return lineOverdue(p) ? [{ color: "#000", weight: weight + 4, opacity: 0.45, className: "overdue" }, line] : line;
        },
        markers: function (p) {
          return { radius: 4, weight: 1, color: "#000", fill: true, fillColor: markerColors[p.status] || "#999", fillOpacity: 0.9,
            dashArray: dash(p) };
        }
      }[key];
    }

    var cycleStart = new Date();
    cycleStart.setFullYear(cycleStart.getFullYear() - 5);
    function lineOverdue(p) {
      return !p.last_inspected || new Date(p.last_inspected) < cycleStart;
    }

    // The query of every dated request: the divisions as of the chosen day (none: today).
    function dateQuery() { return state.date ? "date=" + encodeURIComponent(state.date) : ""; }
    function tileUrl(key) {
      var query = [state.cluster ? "cluster=" + encodeURIComponent(state.cluster) : "", dateQuery()]
        .filter(Boolean).join("&");
      return config.tileUrl.replace("{layer}", TILE_LAYERS[key].name) + (query ? "?" + query : "");
    }
    function showDate() {
      if (dateNote) { fill(dateNote, state.date ? labels.dateShown + " " + state.date : null); }
    }

    function featureLink(key, p) {
      if (key === "placenames" && p.id) { return config.placenamePageUrl.replace("/0/", "/" + p.id + "/"); }
      if (key === "lines" && p.code) { return config.linePageUrl.replace("CODE", encodeURIComponent(p.code)); }
      if ((key === "townships" || key === "villages") && p.name) { return config.placenamePageUrl.replace("0/", "?q=" + encodeURIComponent(p.name)); }
      return null;
    }

    var overlays = {};
    Object.keys(TILE_LAYERS).forEach(function (key) {
      var spec = TILE_LAYERS[key];
      var pane = map.createPane(key + "Pane");
      pane.style.zIndex = spec.z;
      var styles = {};
      styles[spec.name] = tileStyle(key);
      var layer = L.vectorGrid.protobuf(tileUrl(key), {
        rendererFactory: L.svg.tile,
        vectorTileLayerStyles: styles,
        interactive: true,
        minZoom: spec.minZoom,
        maxNativeZoom: 16,
        pane: key + "Pane"
      });
      layer.on("click", function (event) {
        lastFeatureClick = Date.now();
        var p = event.layer.properties || {};
        var title = p.name_on || p.name || p.number || p.code || key;  // name_on: the name as of the chosen day
        showFeature(event.latlng, title, p, featureLink(key, p));
      });
      overlays[key] = layer;
    });

    // ---- coverage gaps of the chosen category (the worst 2,000, filtered by cluster on the client)
    var gaps = L.geoJSON(null, {
      filter: function (feature) { return !state.cluster || feature.properties.cluster === state.cluster; },
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 5, color: "#b10026", weight: 2, fillColor: "#fff", fillOpacity: 0.6,
          dashArray: feature.properties.is_synthetic ? "2 2" : null, pane: "gapsPane" });
      },
      onEachFeature: function (feature, marker) {
        marker.on("click", function (event) {
          lastFeatureClick = Date.now();
          showFeature(event.latlng, feature.properties.name, feature.properties,
            config.placenamePageUrl.replace("0/", "?q=" + encodeURIComponent(feature.properties.name)));
        });
      }
    });
    map.createPane("gapsPane").style.zIndex = 480;
    var gapData = null, gapError = false;
    function loadGaps() {
      if (!map.hasLayer(gaps)) { return; }
      getJSON(config.gapsUrl + "?limit=2000&category=" + encodeURIComponent(state.gap)).then(function (answer) {
        gapError = answer.status !== 200;
        gapData = gapError ? null : answer.body;
        drawGaps();
      });
    }
    function drawGaps() {
      gaps.clearLayers();
      if (gapData) { gaps.addData(gapData); }
      document.getElementById("map").setAttribute("data-gaps", gaps.getLayers().length);
      updateLegend();
    }

    overlays.districts = districts;
    overlays.gaps = gaps;
    window.portalLayers = overlays;  // for tests

    var names = {
      districts: labels.layerDistricts, townships: labels.layerTownships, villages: labels.layerVillages,
      placenames: labels.layerPlacenames, facilities: labels.layerFacilities, lines: labels.layerLines,
      markers: labels.layerMarkers, gaps: labels.layerGaps
    };
    function minZoomNote(key) {
      return [" ", el("span", { "class": "minzoom" }, "(" + labels.fromZoom + " " + TILE_LAYERS[key].minZoom + ")")];
    }
    // Leaflet's layer control writes a layer's name as HTML: give it the key, then put the label in as text.
    var LayerControl = L.Control.Layers.extend({
      _addItem: function (obj) {
        var label = L.Control.Layers.prototype._addItem.call(this, obj);
        var name = label.querySelector("span > span");
        fill(name, [" ", el("span", { "data-layer": obj.name }, names[obj.name]), TILE_LAYERS[obj.name] ? minZoomNote(obj.name) : null]);
        return label;
      }
    });
    var controlEntries = {};
    ORDER.forEach(function (key) { controlEntries[key] = overlays[key]; });
    new LayerControl(null, controlEntries, { collapsed: window.innerWidth < 900, position: "topright" }).addTo(map);

    // ---- legend of the visible layers
    var legendDiv;
    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      legendDiv = L.DomUtil.create("div", "legend");
      L.DomEvent.disableClickPropagation(legendDiv);
      L.DomEvent.disableScrollPropagation(legendDiv);
      return legendDiv;
    };
    legend.addTo(map);

    function swatch(color, label, shape) {
      return el("div", null, [el("span", { "class": "swatch" + (shape ? " " + shape : ""), style: { background: color } }), label]);
    }
    function updateLegend() {
      if (!legendDiv) { return; }
      var parts = [];
      var visible = ORDER.filter(function (key) { return map.hasLayer(overlays[key]); });
      visible.forEach(function (key) {
        var rows = [];
        if (key === "districts") {
          rows = clusters.filter(function (c) { return !state.cluster || c.slug === state.cluster; })
            .map(function (c) { return swatch(c.color, clusterNames[c.slug]); });
        } else if (key === "facilities") {
          rows = legendData.categories.map(function (c) { return swatch(c.color, c.label, "dot"); });
        } else if (key === "lines") {
          rows = legendData.line_statuses.map(function (c) { return swatch(c.color, c.label, "line"); })
            .concat([swatch("#555", labels.overdue, "line halo")]);
        } else if (key === "markers") {
          rows = legendData.marker_statuses.map(function (c) { return swatch(c.color, c.label, "dot"); });
        } else if (key === "townships") {
          rows = [swatch("#eee", labels.layerTownships + " · " + labels.synthetic)];
        } else if (key === "villages") {
          rows = [swatch("#08519c", labels.village + " · " + labels.synthetic, "dot")];
        } else if (key === "placenames") {
          rows = [swatch("#ffd92f", labels.layerPlacenames, "dot")];
        } else if (key === "gaps") {
          rows = [gapError ? el("div", null, labels.gapsError)
            : swatch("#b10026", labels.uncovered + " · " + (categoryLabels[state.gap] || ""), "dot ring")];
        }
        var min = TILE_LAYERS[key] && map.getZoom() < TILE_LAYERS[key].minZoom ? minZoomNote(key) : null;
        parts.push(el("section", { "data-legend": key }, [el("strong", null, names[key]), min, rows]));
      });
      parts.push(el("p", { "class": "synthetic-legend" }, labels.syntheticLegend));
      fill(legendDiv, parts);
    }

    // ---- state in the URL hash: #map=z/lat/lng&layers=a,b&cluster=slug&gap=category
    function writeHash() {
      var c = map.getCenter();
      var layers = ORDER.filter(function (key) { return map.hasLayer(overlays[key]); });
      var hash = "#map=" + map.getZoom() + "/" + c.lat.toFixed(5) + "/" + c.lng.toFixed(5) +
        "&layers=" + layers.join(",") + (state.cluster ? "&cluster=" + state.cluster : "") + "&gap=" + state.gap +
        (state.date ? "&date=" + state.date : "");
      if (window.location.hash !== hash) { history.replaceState(null, "", hash); }
    }

    (initial.layers || DEFAULT_LAYERS).forEach(function (key) { overlays[key].addTo(map); });
    if (initial.view) { map.setView([initial.view.lat, initial.view.lng], initial.view.zoom); }

    map.on("overlayadd", function (event) {
      if (event.layer === gaps) { loadGaps(); }
      updateLegend(); writeHash();
    });
    map.on("overlayremove", function () { updateLegend(); writeHash(); });
    map.on("moveend", function () { updateLegend(); writeHash(); });
    window.addEventListener("hashchange", function () {
      var next = parseHash();
      if (next.view) { map.setView([next.view.lat, next.view.lng], next.view.zoom); }
    });

    clusterSelect.addEventListener("change", function () {
      state.cluster = clusterSelect.value;
      Object.keys(TILE_LAYERS).forEach(function (key) { overlays[key].setUrl(tileUrl(key)); });
      drawDistricts();
      drawGaps();
      if (districts.getLayers().length) { map.fitBounds(districts.getBounds()); }
      updateLegend(); writeHash();
    });
    if (dateInput) {
      dateInput.addEventListener("change", function () {
        var value = dateInput.value;
        if (value && value < dateInput.min) {
          fill(dateNote, labels.dateTooEarly + " " + dateInput.min);
          return;
        }
        state.date = value;
        Object.keys(TILE_LAYERS).forEach(function (key) { overlays[key].setUrl(tileUrl(key)); });
        showDate();
        writeHash();
      });
    }
    showDate();
    gapSelect.addEventListener("change", function () {
      state.gap = gapSelect.value;
      loadGaps();
      writeHash();
    });

    getJSON(config.divisionsUrl + "?level=district&simplify=30").then(function (answer) {
      districtData = answer.body;
      drawDistricts();
      if (!initial.view) { map.fitBounds(L.geoJSON(districtData).getBounds()); }
      updateLegend(); writeHash();
    });
    loadGaps();
    updateLegend();

    // ---- search: the gazetteer's autocomplete, then fly to the chosen name
    var input = document.getElementById("search-input");
    var list = document.getElementById("search-results");
    var pending = 0;
    function flyTo(item) {
      fill(list, null);
      input.value = item.name;
      getJSON(config.placenameApiUrl.replace(/0$/, String(item.id))).then(function (answer) {
        var geometry = answer.body && answer.body.geometry;
        if (!geometry || geometry.type !== "Point") { return; }
        var level = (answer.body.properties || {}).feature_class;
        var zoom = { municipality: 8, district: 11, township: 14 }[level] || 15;
        var latlng = L.latLng(geometry.coordinates[1], geometry.coordinates[0]);
        map.once("moveend", function () {
          document.getElementById("map").setAttribute("data-flown-to", item.name);
          L.popup().setLatLng(latlng).setContent(el("div", null, [
            el("strong", null, item.label), " ",
            el("a", { "class": "feature-link", href: config.placenamePageUrl.replace("/0/", "/" + encodeURIComponent(item.id) + "/") }, labels.openPage)
          ])).openOn(map);
        });
        map.flyTo(latlng, zoom, { duration: 0.8 });
      });
    }
    input.addEventListener("input", function () {
      var q = input.value.trim();
      var ticket = ++pending;
      if (!q) { fill(list, null); return; }
      getJSON(config.autocompleteUrl + "?limit=8&q=" + encodeURIComponent(q)).then(function (answer) {
        if (ticket !== pending) { return; }
        var items = answer.status === 200 ? answer.body : [];
        fill(list, items.length ? null : el("li", { "class": "empty" }, labels.noResult));
        items.forEach(function (item) {
          var li = document.createElement("li");
          li.setAttribute("role", "option");
          li.textContent = item.label;
          li.addEventListener("click", function () { flyTo(item); });
          list.appendChild(li);
        });
      });
    });
    document.getElementById("search-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var first = list.querySelector("li[role=option]");
      if (first) { first.click(); }
    });

    // ---- click anywhere: what locate says
    function describe(result) {
      var rows = [];
      ["municipality", "cluster", "district", "township", "village"].forEach(function (level) {
        var item = result[level];
        if (!item) { return; }
        var text = [item.name, " ", el("span", { "class": "code" }, item.code)];
        if (item.distance_m !== undefined) { text.push(" · " + Math.round(item.distance_m) + " " + labels.metres); }
        text.push(synthetic(item));
        rows.push(el("dt", null, labels[level]), el("dd", { "data-level": level }, text));
      });
      return el("dl", { "class": "hierarchy" }, rows);
    }
    // What locate answered, as the panel's and the popup's content (two copies).
    function locateContent(lon, lat, answer) {
      return el("div", null, [
        el("p", { "class": "coords" }, lon + ", " + lat),
        answer.status === 200 ? describe(answer.body) : el("p", null, answer.status === 404 ? labels.outside : labels.error)
      ]);
    }
    map.on("click", function (event) {
      if (Date.now() - lastFeatureClick < 300) { return; }  // a feature's own popup answered this click
      var lon = event.latlng.lng.toFixed(6), lat = event.latlng.lat.toFixed(6);
      fill(resultBox, el("p", null, labels.loading));
      getJSON(config.locateUrl + "?lon=" + lon + "&lat=" + lat + (state.date ? "&" + dateQuery() : ""))
        .then(function (answer) {
          fill(resultBox, locateContent(lon, lat, answer));
          L.popup().setLatLng(event.latlng).setContent(locateContent(lon, lat, answer)).openOn(map);
        })
        .catch(function () { fill(resultBox, el("p", null, labels.error)); });
    });
  };
})();
