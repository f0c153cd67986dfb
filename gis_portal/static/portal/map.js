/* The district map: districts coloured by cluster, hover names, click to locate. */
(function () {
  "use strict";

  function readJSON(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  function addLegend(map, clusters, labels, english) {
    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "legend");
      var rows = clusters.map(function (c) {
        return '<div><span class="swatch" style="background:' + c.color + '"></span>' +
          escapeHtml(english ? c.name_en : c.name) + "</div>";
      });
      div.innerHTML = "<strong>" + escapeHtml(labels.legend) + "</strong>" + rows.join("");
      return div;
    };
    legend.addTo(map);
  }

  function describe(result, labels) {
    var rows = [];
    ["municipality", "cluster", "district", "township", "village"].forEach(function (level) {
      var item = result[level];
      if (!item) { return; }
      var text = escapeHtml(item.name) + ' <span class="code">' + escapeHtml(item.code) + "</span>";
      if (item.distance_m !== undefined) { text += " · " + Math.round(item.distance_m) + " " + escapeHtml(labels.metres); }
      if (item.is_synthetic) { text += ' <span class="badge">' + escapeHtml(labels.synthetic) + "</span>"; }
      rows.push("<dt>" + escapeHtml(labels[level]) + "</dt><dd data-level=\"" + level + "\">" + text + "</dd>");
    });
    return "<dl class=\"hierarchy\">" + rows.join("") + "</dl>";
  }

  window.portalMapInit = function (map) {
    window.portalMap = map;  // for tests and the console
    var config = readJSON("portal-config");
    var clusters = readJSON("clusters-data");
    var labels = readJSON("portal-labels");
    var english = config.lang === "en";
    var colors = {};
    clusters.forEach(function (c) { colors[c.slug] = c.color; });
    var resultBox = document.getElementById("locate-result");

    var baseStyle = function (feature) {
      return { color: "#444", weight: 1, fillColor: colors[feature.properties.cluster] || "#999", fillOpacity: 0.55 };
    };
    fetch(config.divisionsUrl + "?level=district&simplify=30")
      .then(function (response) { return response.json(); })
      .then(function (collection) {
        var layer = L.geoJSON(collection, {
          style: baseStyle,
          onEachFeature: function (feature, path) {
            path.bindTooltip(feature.properties.name, { sticky: true, className: "district-tooltip" });
            path.on("mouseover", function () { path.setStyle({ weight: 3, fillOpacity: 0.75 }); });
            path.on("mouseout", function () { layer.resetStyle(path); });
          }
        }).addTo(map);
        map.fitBounds(layer.getBounds());
        document.getElementById("map").setAttribute("data-loaded", collection.features.length);
      });
    addLegend(map, clusters, labels, english);

    map.on("click", function (event) {
      var lon = event.latlng.lng.toFixed(6), lat = event.latlng.lat.toFixed(6);
      resultBox.innerHTML = "<p>" + escapeHtml(labels.loading) + "</p>";
      fetch(config.locateUrl + "?lon=" + lon + "&lat=" + lat)
        .then(function (response) {
          return response.json().then(function (body) { return { status: response.status, body: body }; });
        })
        .then(function (answer) {
          var html = answer.status === 200 ? describe(answer.body, labels)
            : "<p>" + escapeHtml(answer.status === 404 ? labels.outside : labels.error) + "</p>";
          html = '<p class="coords">' + lon + ", " + lat + "</p>" + html;
          resultBox.innerHTML = html;
          L.popup().setLatLng(event.latlng).setContent(html).openOn(map);
        })
        .catch(function () { resultBox.innerHTML = "<p>" + escapeHtml(labels.error) + "</p>"; });
    });
  };
})();
