/* Maps of the place-name office's pages: the suggestion form (a click sets the location), an
   application's or notice's location, the signs needing work and the heritage names. Every text from
   data reaches the map as a text node (portal/dom.js), never as HTML. */
(function () {
  "use strict";

  var dom = window.portalDom, el = dom.el, readJSON = dom.readJSON;
  var PROBLEM_COLOURS = { missing: "#b22222", damaged: "#e08000", wrong: "#6a3d9a" };

  window.officeSuggestMapInit = function (map) {
    window.officeMap = map;
    window.portalMaps.districtOutlines(map, "office-districts");
    var lon = document.getElementById("id_lon"), lat = document.getElementById("id_lat");
    var marker = null;
    function place(latlng) {
      if (marker) { map.removeLayer(marker); }
      marker = L.marker(latlng).addTo(map);
    }
    if (lon.value && lat.value && isFinite(+lon.value) && isFinite(+lat.value)) { place([+lat.value, +lon.value]); }
    map.on("click", function (event) {
      lon.value = event.latlng.lng.toFixed(6);
      lat.value = event.latlng.lat.toFixed(6);
      place(event.latlng);
    });
  };

  window.officeLocationMapInit = function (map) {
    window.officeMap = map;
    window.portalMaps.districtOutlines(map, "office-districts");
    var geometry = readJSON("office-location");
    if (!geometry) { return; }
    var layer = L.geoJSON(geometry, { style: { color: "#b22222", weight: 4 } }).addTo(map);
    if (geometry.type === "Point") {
      map.setView([geometry.coordinates[1], geometry.coordinates[0]], 14);
    } else {
      map.fitBounds(layer.getBounds(), { maxZoom: 16 });
    }
  };

  function signColour(problems) {
    for (var i = 0; i < problems.length; i++) {
      if (PROBLEM_COLOURS[problems[i]]) { return PROBLEM_COLOURS[problems[i]]; }
    }
    return "#31506b";
  }

  window.officeSignsMapInit = function (map) {
    window.officeMap = map;
    window.portalMaps.districtOutlines(map, "office-districts");
    var source = readJSON("office-signs");
    fetch(source.url).then(function (response) { return response.json(); }).then(function (collection) {
      var layer = L.geoJSON(collection, {
        pointToLayer: function (feature, latlng) {
          var p = feature.properties;
          return L.circleMarker(latlng, {
            radius: 6, color: signColour(p.problems), weight: 2, fillOpacity: p.is_synthetic ? 0.2 : 0.8,
            dashArray: p.is_synthetic ? "3 3" : null
          });
        },
        onEachFeature: function (feature, item) {
          var p = feature.properties;
          item.bindTooltip(dom.text(p.standard_name + " · " + p.problems.join(", ")));
          item.bindPopup(function () {
            return el("div", null, [
              el("strong", null, p.standard_name), el("br"),
              p.text_chinese + " / " + p.text_pinyin, el("br"),
              p.problems.join(", "),
              p.findings.map(function (f) { return el("div", { "class": "finding-source" }, f.rule + ": " + f.message); })
            ]);
          });
        }
      }).addTo(map);
      document.getElementById("office-map").dataset.signs = String(collection.features.length);
      if (collection.features.length) { map.fitBounds(layer.getBounds(), { maxZoom: 12 }); }
    });
  };

  window.officeHeritageMapInit = function (map) {
    window.officeMap = map;
    window.portalMaps.districtOutlines(map, "office-districts");
    var collection = readJSON("office-heritage");
    var layer = L.geoJSON(collection, {
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 8, color: "#8a5a00", weight: 2, fillOpacity: 0.7 });
      },
      onEachFeature: function (feature, item) {
        var p = feature.properties;
        item.bindTooltip(dom.text(p.name + " · " + p.district));
        item.bindPopup(function () {
          return el("div", null, [el("strong", null, p.name), el("p", null, p.story), el("p", { "class": "finding-source" }, p.sources)]);
        });
      }
    }).addTo(map);
    if (collection.features.length) { map.fitBounds(layer.getBounds(), { maxZoom: 11 }); }
  };
}());
