/* The inspection dashboard and line page: lines coloured by status (overdue dashed), markers.
   Line names and marker numbers reach the tooltips as text nodes (portal/dom.js), never as HTML. */
(function () {
  "use strict";

  var MARKER_ZOOM = 9;
  var COLORS = { clear: "#1b9e77", problem: "#d95f02", disputed: "#b22222", overdue: "#7b3294" };
  var dom = window.portalDom, el = dom.el;

  function readJSON(id) {
    return dom.readJSON(id) || {};
  }

  // The dashboard's level filter submits its form on change (no inline handler under the CSP).
  var levelFilter = document.getElementById("level-filter");
  if (levelFilter) { levelFilter.addEventListener("change", function () { levelFilter.form.submit(); }); }

  function lineStyle(feature) {
    var p = feature.properties;
    var color = p.status !== "clear" ? COLORS[p.status] : (p.overdue ? COLORS.overdue : COLORS.clear);
    return { color: color, weight: p.level === "province" ? 4 : 2.5, dashArray: p.overdue ? "6 4" : null, opacity: 0.9 };
  }

  function markerLayer(features) {
    return L.geoJSON({ type: "FeatureCollection", features: features }, {
      pointToLayer: function (feature, latlng) {
        var intact = feature.properties.status === "intact" || feature.properties.status === "replaced";
        return L.circleMarker(latlng, {
          radius: feature.properties.marker_type === "triple" ? 4 : 2.5, weight: 1,
          color: intact ? "#333" : "#b22222", fillColor: intact ? "#fff" : "#b22222", fillOpacity: 1,
          className: "boundary-marker"
        }).bindTooltip(dom.text(feature.properties.number, "marker-number"));
      }
    });
  }

  function addLegend(map, labels) {
    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "lines-legend");
      dom.fill(div, [el("strong", null, labels.legend)].concat(["clear", "problem", "disputed", "overdue"].map(function (key) {
        var style = { "border-color": COLORS[key] };
        if (key === "overdue") { style["border-top-style"] = "dashed"; }
        return [el("br"), el("i", { style: style }), labels[key]];
      })));
      return div;
    };
    legend.addTo(map);
  }

  function getJSON(url) {
    return fetch(url).then(function (response) { return response.json(); });
  }

  // A whole layer: the API pages GeoJSON (at most 2,000 features a page), so follow `next`.
  function getAllFeatures(url, features) {
    features = features || [];
    return getJSON(url).then(function (page) {
      features = features.concat(page.features || []);
      return page.next ? getAllFeatures(page.next, features) : { type: "FeatureCollection", features: features };
    });
  }

  window.linesMapInit = function (map) {
    window.linesMap = map;
    var config = readJSON("lines-config");
    var labels = readJSON("lines-labels");
    var level = new URLSearchParams(window.location.search).get("level");
    var levels = level === "township" ? "township" : (level || "province,county");
    var requests = levels.split(",").map(function (lv) {
      return getAllFeatures(config.linesUrl + "?level=" + lv + "&simplify=50&page_size=2000");
    });
    Promise.all(requests).then(function (collections) {
      var features = [].concat.apply([], collections.map(function (c) { return c.features; }));
      var layer = L.geoJSON({ type: "FeatureCollection", features: features }, {
        style: lineStyle,
        onEachFeature: function (feature, path) {
          var p = feature.properties;
          path.bindTooltip(dom.text(p.name + " · " + labels[p.status] + (p.overdue ? " · " + labels.overdue : ""), "line-name"),
            { sticky: true });
          path.on("click", function () { window.location.href = config.linePage.replace("CODE", encodeURIComponent(p.code)); });
        }
      }).addTo(map);
      map.fitBounds(layer.getBounds());
      document.getElementById("lines-map").setAttribute("data-lines", features.length);
      return getAllFeatures(config.markersUrl + "?page_size=2000");
    }).then(function (markers) {
      // Markers every 5 km would hide the lines at the municipal scale: show them from MARKER_ZOOM.
      var layer = markerLayer(markers.features);
      var toggle = function () {
        if (map.getZoom() >= MARKER_ZOOM) { layer.addTo(map); } else { map.removeLayer(layer); }
      };
      map.on("zoomend", toggle);
      toggle();
      document.getElementById("lines-map").setAttribute("data-markers", markers.features.length);
    });
    addLegend(map, labels);
  };

  window.lineMapInit = function (map) {
    window.linesMap = map;
    getJSON(readJSON("line-url")).then(function (feature) {
      var layer = L.geoJSON(feature, { style: lineStyle }).addTo(map);
      map.fitBounds(layer.getBounds());
      markerLayer(feature.properties.markers.map(function (m) {
        return { type: "Feature", geometry: { type: "Point", coordinates: [m.lon, m.lat] }, properties: m };
      })).addTo(map);
      document.getElementById("lines-map").setAttribute("data-lines", 1);
    });
  };
})();
