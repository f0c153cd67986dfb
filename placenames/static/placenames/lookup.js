/* Place-name look-up: type-ahead against /api/v1/placenames/autocomplete, results with their
   hierarchy, the chosen place on the map; ?q= in the address makes a search shareable.
   Names reach the list, the suggestions and the tooltip as text nodes (portal/dom.js), never as HTML. */
(function () {
  "use strict";

  var dom = window.portalDom, el = dom.el, fill = dom.fill, readJSON = dom.readJSON;

  function showPlace(map, layerHolder, geometry, title) {
    if (layerHolder.marker) { map.removeLayer(layerHolder.marker); }
    if (!geometry) { return; }
    var lon = geometry.coordinates[0], lat = geometry.coordinates[1];
    layerHolder.marker = L.marker([lat, lon], { title: title }).addTo(map);
    layerHolder.marker.bindTooltip(dom.text(title), { permanent: true, direction: "top", className: "placename-tooltip" });
    map.setView([lat, lon], 13);
  }

  function hierarchyText(feature) {
    return feature.properties.hierarchy.map(function (h) { return h.name; }).join(" › ");
  }

  window.placenameDetailInit = function (map) {
    window.placenameMap = map;
    window.portalMaps.districtOutlines(map, "placename-districts");
    var geometry = readJSON("place-geometry");
    showPlace(map, {}, geometry, document.getElementById("place-name").firstChild.textContent.trim());
  };

  window.placenameMapInit = function (map) {
    window.placenameMap = map;
    window.portalMaps.districtOutlines(map, "placename-districts");
    var config = readJSON("placename-config");
    var labels = readJSON("placename-labels");
    var input = document.getElementById("placename-q");
    var list = document.getElementById("placename-suggestions");
    var results = document.getElementById("placename-results");
    var form = document.getElementById("placename-form");
    var holder = {};
    var features = {};
    var timer = null;
    var active = -1;
    var lastQuery = null;

    function detailUrl(id) { return config.detailUrl.replace(/0\/$/, encodeURIComponent(id) + "/"); }

    function select(feature) {
      results.querySelectorAll("li").forEach(function (li) {
        li.classList.toggle("selected", li.dataset.id === String(feature.id));
      });
      showPlace(map, holder, feature.geometry, feature.properties.name);
      document.getElementById("placename-map").dataset.selected = feature.properties.name;
    }

    function render(collection) {
      features = {};
      if (!collection.features.length) {
        fill(results, el("li", { "class": "empty" }, labels.none));
        return;
      }
      fill(results, collection.features.map(function (f) {
        features[f.id] = f;
        var p = f.properties;
        return el("li", { "data-id": f.id }, [
          el("button", { type: "button", "class": "result-name" }, p.name), " ",
          el("span", { "class": "pinyin" }, p.pinyin),
          p.matched && p.matched.former ? [" ", el("span", { "class": "former" }, labels.former + ": " + p.matched.text)] : null,
          p.is_synthetic ? [" ", el("span", { "class": "badge" }, labels.synthetic)] : null,
          el("div", { "class": "breadcrumb" }, [
            hierarchyText(f), " ", el("span", { "class": "code" }, p.code || ""), " ",
            el("a", { href: detailUrl(f.id) }, labels.details)
          ])
        ]);
      }));
    }

    function search(q, pickId) {
      var url = config.searchUrl + "?limit=20&q=" + encodeURIComponent(q);
      return fetch(url).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      }).then(function (collection) {
        render(collection);
        var chosen = (pickId && features[pickId]) || collection.features[0];
        if (chosen) { select(chosen); }
      }).catch(function () {
        fill(results, el("li", { "class": "empty" }, labels.error));
      });
    }

    function submit(q, pickId) {
      hideSuggestions();
      var params = new URLSearchParams(window.location.search);
      params.set("q", q);
      window.history.replaceState(null, "", "?" + params.toString());
      return search(q, pickId);
    }

    function hideSuggestions() { list.hidden = true; fill(list, null); active = -1; }

    function suggest() {
      var q = input.value.trim();
      if (!q || q === lastQuery) { if (!q) { hideSuggestions(); } return; }
      lastQuery = q;
      fetch(config.autocompleteUrl + "?limit=8&q=" + encodeURIComponent(q))
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (items) {
          if (input.value.trim() !== q) { return; }
          if (!items.length) { hideSuggestions(); return; }
          fill(list, items.map(function (item, i) {
            return el("li", { role: "option", id: "suggestion-" + i, "data-id": item.id, "data-name": item.name },
              [item.label, " ", el("span", { "class": "pinyin" }, item.pinyin)]);
          }));
          list.hidden = false;
          active = -1;
        })
        .catch(hideSuggestions);
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(suggest, 150);
    });
    input.addEventListener("keydown", function (event) {
      var items = list.querySelectorAll("li");
      if (list.hidden || !items.length) { return; }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        active = (active + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
        items.forEach(function (li, i) { li.classList.toggle("active", i === active); });
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        pick(items[active]);
      } else if (event.key === "Escape") {
        hideSuggestions();
      }
    });
    function pick(li) {
      input.value = li.dataset.name;
      lastQuery = li.dataset.name;
      submit(li.dataset.name, li.dataset.id);
    }
    list.addEventListener("mousedown", function (event) {
      var li = event.target.closest("li");
      if (li) { event.preventDefault(); pick(li); }
    });
    input.addEventListener("blur", function () { window.setTimeout(hideSuggestions, 100); });
    results.addEventListener("click", function (event) {
      var button = event.target.closest("button.result-name");
      if (button) { select(features[button.closest("li").dataset.id]); }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var q = input.value.trim();
      if (q) { submit(q); }
    });
    if (input.value.trim()) { search(input.value.trim()); }
  };
})();
