/* The validation report map: the official line (red) and the uploaded features (blue), each marker
   with its number from the file as a tooltip (text, not HTML). */
window.surveyReportInit = function (map) {
  "use strict";
  var line = window.portalDom.readJSON("line-data");
  var features = window.portalDom.readJSON("features-data");
  var official = L.geoJSON(line, { style: { color: "#c0392b", weight: 3 } }).addTo(map);
  var uploaded = L.geoJSON(features, {
    style: { color: "#1f6fd1", weight: 2 },
    pointToLayer: function (feature, latlng) {
      // The marker number comes from the uploaded file: a text node, never HTML.
      return L.circleMarker(latlng, { radius: 5, color: "#1f6fd1", className: "uploaded-marker" })
        .bindTooltip(window.portalDom.text(feature.properties.number || "", "marker-number"));
    }
  }).addTo(map);
  var bounds = uploaded.getLayers().length ? uploaded.getBounds() : official.getBounds();
  map.fitBounds(bounds, { maxZoom: 16 });
  document.getElementById("report-map").setAttribute("data-loaded", "1");
};
