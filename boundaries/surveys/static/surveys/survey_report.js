/* The validation report map: the official line (red) and the uploaded features (blue). */
window.surveyReportInit = function (map) {
  "use strict";
  var line = JSON.parse(document.getElementById("line-data").textContent);
  var features = JSON.parse(document.getElementById("features-data").textContent);
  var official = L.geoJSON(line, { style: { color: "#c0392b", weight: 3 } }).addTo(map);
  var uploaded = L.geoJSON(features, {
    style: { color: "#1f6fd1", weight: 2 },
    pointToLayer: function (feature, latlng) {
      return L.circleMarker(latlng, { radius: 5, color: "#1f6fd1" })
        .bindTooltip(feature.properties.number || "");
    }
  }).addTo(map);
  var bounds = uploaded.getLayers().length ? uploaded.getBounds() : official.getBounds();
  map.fitBounds(bounds, { maxZoom: 16 });
  document.getElementById("report-map").setAttribute("data-loaded", "1");
};
