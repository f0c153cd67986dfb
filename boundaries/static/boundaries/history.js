/* The division changes page: the units the shown changes concern, as today's polygons coloured by
   the kind of change. Names reach the tooltips as text nodes (portal/dom.js), never as HTML. */
(function () {
  "use strict";

  var dom = window.portalDom;
  var COLORS = {
    town_to_street: "#1b9e77", township_to_street: "#1b9e77", township_to_town: "#66a61e",
    renamed: "#7570b3", recoded: "#7570b3", merged_into: "#d95f02", split_from: "#e7298a",
    abolished: "#b22222", "new": "#e6ab02"
  };

  window.changesMapInit = function (map) {
    window.changesMap = map;
    var shapes = dom.readJSON("changes-shapes") || { type: "FeatureCollection", features: [] };
    var layer = L.geoJSON(shapes, {
      style: function (feature) {
        var p = feature.properties;
        return { color: COLORS[p.type] || "#555", weight: 2, fillOpacity: 0.35, dashArray: p.is_synthetic ? "4 3" : null };
      },
      onEachFeature: function (feature, path) {
        var p = feature.properties;
        path.bindTooltip(dom.text(p.name + " " + p.code + " · " + p.type_display, "change-name"));
      }
    }).addTo(map);
    if (shapes.features.length) { map.fitBounds(layer.getBounds()); }
    document.getElementById("changes-map").setAttribute("data-shapes", shapes.features.length);
  };
})();
