/* What-if scenarios on the coverage dashboard (planners only; the panel is in the page only for
   them): click the map to add a site of the chosen category, show the open facilities and click one
   to close it, compute (POST /api/v1/coverage/scenario: nothing is written), and see today against
   the scenario, the districts recoloured and the gaps redrawn; save under a name and share the link.
   Every text reaches the page as a text node (portal/dom.js). */
(function () {
  "use strict";

  var dom = window.portalDom, el = dom.el, fill = dom.fill;

  function csrfToken() {
    var input = document.querySelector("#scenario input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function send(method, url, body) {
    var options = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = csrfToken();
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) { throw new Error(data.error ? data.error.message : String(r.status)); }
        return data;
      });
    });
  }
  function pct(share) { return share === null || share === undefined ? "–" : (share * 100).toFixed(1) + "%"; }
  function signed(n, format) { return (n > 0 ? "+" : "") + format(n); }
  function number(n) { return n.toLocaleString(); }

  window.coverageScenarioInit = function (map, config, labels, select, load, ready) {
    var panel = document.getElementById("scenario");
    if (!panel) { return; }
    var mapDiv = document.getElementById("map");
    var siteLayer = L.layerGroup().addTo(map), facilityLayer = L.layerGroup().addTo(map);
    var added = [], closed = {}, addMode = false;
    var addButton = document.getElementById("scenario-add-mode"), summary = document.getElementById("scenario-summary");

    function renderLists() {
      fill(document.getElementById("scenario-added"), added.map(function (site, i) {
        var remove = el("button", { type: "button", "class": "link" }, labels.remove);
        remove.addEventListener("click", function () { siteLayer.removeLayer(site.marker); added.splice(i, 1); renderLists(); });
        return el("li", null, [labels.newSite + " " + (i + 1) + " (" + site.lon.toFixed(5) + ", " + site.lat.toFixed(5) + ") ", remove]);
      }));
      fill(document.getElementById("scenario-closed"), Object.keys(closed).map(function (id) {
        var remove = el("button", { type: "button", "class": "link" }, labels.remove);
        remove.addEventListener("click", function () { toggleClosed(Number(id), closed[id].name, closed[id].marker); });
        return el("li", { "data-id": id }, [labels.close + ": " + closed[id].name + " ", remove]);
      }));
    }
    function addSite(lon, lat) {
      var marker = L.circleMarker([lat, lon], { radius: 8, color: "#1b7837", weight: 3, fillColor: "#a6dba0",
        fillOpacity: 0.9, className: "scenario-site" }).addTo(siteLayer);
      added.push({ lon: lon, lat: lat, marker: marker });
      renderLists();
    }
    function toggleClosed(id, name, marker) {
      if (closed[id]) {
        if (closed[id].marker) { closed[id].marker.setStyle({ color: "#2166ac", fillColor: "#67a9cf" }); }
        delete closed[id];
      } else {
        closed[id] = { name: name, marker: marker };
        if (marker) { marker.setStyle({ color: "#000", fillColor: "#999" }); }
      }
      renderLists();
    }
    function clear() {
      siteLayer.clearLayers();
      added = [];
      Object.keys(closed).forEach(function (id) { if (closed[id].marker) { closed[id].marker.setStyle({ color: "#2166ac", fillColor: "#67a9cf" }); } });
      closed = {};
      renderLists();
      fill(document.querySelector("#scenario-table tbody"), null);
      summary.textContent = "";
      mapDiv.removeAttribute("data-scenario");
    }

    addButton.addEventListener("click", function () {
      addMode = !addMode;
      addButton.setAttribute("aria-pressed", addMode ? "true" : "false");
      mapDiv.classList.toggle("adding-sites", addMode);
    });
    map.on("click", function (event) {
      if (addMode) { addSite(Number(event.latlng.lng.toFixed(6)), Number(event.latlng.lat.toFixed(6))); }
    });

    // The open facilities of the category (every page), each a marker that toggles its closure.
    function showFacilities() {
      facilityLayer.clearLayers();
      function page(url) {
        return send("GET", url).then(function (body) {
          body.features.forEach(function (f) {
            var p = f.properties, id = f.id !== undefined ? f.id : p.id;
            var marker = L.circleMarker([f.geometry.coordinates[1], f.geometry.coordinates[0]], { radius: 4, color: "#2166ac",
              weight: 1, fillColor: "#67a9cf", fillOpacity: 0.9, className: "scenario-facility" });
            marker.bindTooltip(dom.text(p.name));
            marker.on("click", function () { toggleClosed(id, p.name, marker); });
            if (closed[id]) { closed[id].marker = marker; marker.setStyle({ color: "#000", fillColor: "#999" }); }
            marker.addTo(facilityLayer);
          });
          if (body.next) { return page(body.next); }
          mapDiv.setAttribute("data-facilities", String(facilityLayer.getLayers().length));
        });
      }
      return page(config.facilitiesUrl + "?status=open&page_size=2000&category=" + encodeURIComponent(select.value))
        .catch(function (error) { summary.textContent = labels.error + " " + error.message; });
    }
    document.getElementById("scenario-facilities").addEventListener("click", showFacilities);

    function definition() {
      return {
        category: select.value,
        add: added.map(function (s) { return { lon: s.lon, lat: s.lat, category: select.value }; }),
        close: Object.keys(closed).map(Number)
      };
    }
    function show(result) {
      var rows = [
        [labels.covered, result.today.covered, result.scenario.covered, number],
        [labels.coveredShare, result.today.covered_share, result.scenario.covered_share, pct],
        [labels.populationCovered, result.today.population_covered, result.scenario.population_covered, number],
        [labels.elderlyCovered, result.today.elderly_covered, result.scenario.elderly_covered, number]
      ];
      fill(document.querySelector("#scenario-table tbody"), rows.map(function (r) {
        var change = r[1] === null || r[2] === null ? "–" : r[3] === pct ? signed((r[2] - r[1]) * 100, function (n) { return n.toFixed(1) + " pt"; })
          : signed(r[2] - r[1], number);
        return el("tr", null, [el("td", null, r[0]), el("td", null, r[3](r[1])), el("td", null, r[3](r[2])), el("td", { "class": "change" }, change)]);
      }));
      summary.textContent = result.newly_covered.length + " " + labels.newlyCovered + " · " +
        result.newly_uncovered.length + " " + labels.newlyUncovered;
      var byCode = {};
      result.by_district.forEach(function (r) { byCode[r.code] = r; });
      window.coverageRecolour(byCode);
      window.coverageDrawGaps(result.gaps);
      mapDiv.setAttribute("data-scenario", String(result.change.covered));
    }
    document.getElementById("scenario-run").addEventListener("click", function () {
      var body = definition();
      if (!body.add.length && !body.close.length) { summary.textContent = labels.nothingToDo; return; }
      summary.textContent = labels.loading;
      send("POST", config.scenarioUrl, body).then(show).catch(function (error) { summary.textContent = labels.error + " " + error.message; });
    });
    document.getElementById("scenario-clear").addEventListener("click", function () { clear(); load(); });

    function link(s) {
      return el("a", { href: s.url, "class": "scenario-link" }, s.name);
    }
    function listSaved() {
      return send("GET", config.scenariosUrl).then(function (body) {
        fill(document.getElementById("scenario-saved"), body.results.map(function (s) { return el("li", null, link(s)); }));
      });
    }
    document.getElementById("scenario-save").addEventListener("click", function () {
      var body = definition();
      body.name = document.getElementById("scenario-name").value;
      send("POST", config.scenariosUrl, body).then(function (saved) {
        fill(document.getElementById("scenario-link"), [labels.saved + " ", link(saved)]);
        return listSaved();
      }).catch(function (error) { fill(document.getElementById("scenario-link"), labels.error + " " + error.message); });
    });
    listSaved().catch(function () { /* the list is a convenience */ });

    // A shared link (?scenario=<id>): its category, sites and closures, and its coverage today.
    if (config.scenarioId !== null) {
      send("GET", config.scenariosUrl + "/" + config.scenarioId).then(function (saved) {
        document.getElementById("scenario-name").value = saved.name;
        var loaded = ready;
        if (select.value !== saved.category) { select.value = saved.category; loaded = load(); }
        return loaded.then(function () {
          saved.add.forEach(function (s) { addSite(s.lon, s.lat); });
          saved.result.closed.forEach(function (f) { toggleClosed(f.id, f.name, null); });
          show(saved.result);
        });
      }).catch(function (error) { summary.textContent = labels.error + " " + error.message; });
    }
  };
})();
