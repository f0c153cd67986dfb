/* The maps of the pages, initialised here instead of django-leaflet's {% leaflet_map %} tag (which
   writes an inline script that the Content-Security-Policy refuses). Each map is a
   <div data-leaflet-map="callbackName" data-leaflet-config="{LEAFLET_CONFIG as JSON}">
   (templates/portal/leaflet_map.html); on the window's load event (LOADEVENT) it becomes an L.Map.DjangoMap
   with the options the tag would have given it, and the page's window[callbackName](map) runs. */
(function () {
  "use strict";

  function djangoOptions(config) {
    var extent = null;
    var box = config.SPATIAL_EXTENT;
    if (box) { extent = [[box.ymin, box.xmin], [box.ymax, box.xmax]]; }
    return {
      srid: config.SRID || null,
      extent: extent,
      fitextent: true,
      center: config.DEFAULT_CENTER,
      zoom: config.DEFAULT_ZOOM,
      precision: config.DEFAULT_PRECISION,
      minzoom: config.MIN_ZOOM,
      maxzoom: config.MAX_ZOOM,
      layers: config.TILES || [],
      overlays: config.OVERLAYS || [],
      attributionprefix: config.ATTRIBUTION_PREFIX === undefined ? null : config.ATTRIBUTION_PREFIX,
      scale: config.SCALE,
      minimap: config.MINIMAP,
      resetview: config.RESET_VIEW,
      tilesextent: config.TILES_EXTENT || []
    };
  }

  function start(container) {
    var config = JSON.parse(container.getAttribute("data-leaflet-config"));
    var callback = window[container.getAttribute("data-leaflet-map")];
    var globals = !config.NO_GLOBALS;
    var map = L.Map.djangoMap(container.id, {
      djoptions: djangoOptions(config),
      initfunc: null,
      globals: globals,
      callback: typeof callback === "function" ? callback : null
    });
    if (globals && map) { window["leafletmap" + container.id] = map; }
  }

  // District outlines as context under a page's own layers (there is no basemap by default), from
  // the GeoJSON whose URL the page gives in the JSON script element `sourceId` ({"url": ...}).
  window.portalMaps = {
    districtOutlines: function (map, sourceId) {
      var source = window.portalDom.readJSON(sourceId);
      if (!source) { return; }
      fetch(source.url).then(function (response) { return response.json(); }).then(function (collection) {
        L.geoJSON(collection, {
          interactive: false,
          style: { color: "#888", weight: 1, fillColor: "#fff", fillOpacity: 0.4 }
        }).addTo(map).bringToBack();
      }).catch(function () { /* context only */ });
    }
  };

  // As the tag: on each of LEAFLET_CONFIG's LOADEVENT events of the window (default "load"), or at once.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-leaflet-map]").forEach(function (container) {
      var events = String(JSON.parse(container.getAttribute("data-leaflet-config")).LOADEVENT || "").split(/\s+/)
        .filter(Boolean);
      if (!events.length) { start(container); return; }
      events.forEach(function (name) { window.addEventListener(name, function () { start(container); }); });
    });
  });
})();
