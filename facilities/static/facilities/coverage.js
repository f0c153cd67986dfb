/* The coverage dashboard: districts coloured by covered share, cluster table, bar chart by
   district (plain SVG), gaps on the map and suggested sites (all from /api/v1/coverage*).
   Names and the rule's label and source reach the page as text nodes (portal/dom.js), never as HTML. */
(function () {
  "use strict";

  var RAMP = [[0.5, "#d7301f"], [0.7, "#fc8d59"], [0.9, "#fdcc8a"], [Infinity, "#1a9850"]];
  var dom = window.portalDom, el = dom.el, svg = dom.svg, fill = dom.fill, readJSON = dom.readJSON;

  function colour(share) {
    if (share === null || share === undefined) { return "#cccccc"; }
    for (var i = 0; i < RAMP.length; i++) { if (share < RAMP[i][0]) { return RAMP[i][1]; } }
    return RAMP[RAMP.length - 1][1];
  }
  function pct(share) { return share === null || share === undefined ? "–" : Math.round(share * 100) + "%"; }
  function getJSON(url) {
    return fetch(url).then(function (r) {
      return r.json().then(function (body) { if (!r.ok) { throw new Error(body.error ? body.error.message : r.status); } return body; });
    });
  }
  // The value a district's bar shows: the covered share, or for a capacity rule beds against the standard.
  function barValue(row, rule) {
    if (rule.kind === "capacity") {
      return row.beds_per_1000_elderly === null ? null : row.beds_per_1000_elderly / rule.beds_per_1000_elderly;
    }
    return row.covered_share;
  }

  function drawChart(rows, rule, labels) {
    var width = 380, barH = 11, gap = 2, left = 110, height = rows.length * (barH + gap) + 16;
    var parts = [];
    var scale = (width - left - 40) / (rule.kind === "capacity" ? 1.5 : 1);
    rows.forEach(function (row, i) {
      var value = barValue(row, rule), y = i * (barH + gap);
      var w = value === null ? 0 : Math.min(value, rule.kind === "capacity" ? 1.5 : 1) * scale;
      var text = rule.kind === "capacity" ? (row.beds_per_1000_elderly === null ? "–" : row.beds_per_1000_elderly) : pct(value);
      parts.push(svg("text", { x: left - 4, y: y + barH - 2, "text-anchor": "end" }, row.name));
      parts.push(svg("rect", { "data-code": row.code, x: left, y: y, width: w.toFixed(1), height: barH,
        fill: colour(rule.kind === "capacity" ? (value >= 1 ? 1 : value) : value) }, svg("title", null, row.name + ": " + text)));
      parts.push(svg("text", { x: left + w + 3, y: y + barH - 2 }, text));
    });
    var full = left + scale;  // 100% (or the standard, for capacity)
    parts.push(svg("line", { x1: full, x2: full, y1: 0, y2: height - 14, stroke: "#333", "stroke-dasharray": "3,2" }));
    parts.push(svg("text", { x: full, y: height - 2, "text-anchor": "middle" },
      rule.kind === "capacity" ? rule.beds_per_1000_elderly + " " + labels.beds : "100%"));
    fill(document.getElementById("district-chart"), svg("svg", { viewBox: "0 0 " + width + " " + height, role: "img" }, parts));
  }

  window.coverageMapInit = function (map) {
    window.coverageMap = map;  // for tests and the console
    var config = readJSON("coverage-config"), labels = readJSON("coverage-labels");
    var select = document.getElementById("category"), mapDiv = document.getElementById("map");
    var districtLayer = null, gapLayer = L.layerGroup().addTo(map), siteLayer = L.layerGroup().addTo(map);
    var districtsReady = getJSON(config.divisionsUrl + "?level=district&simplify=100");

    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "legend");
      var rows = ["< 50%", "50–70%", "70–90%", "≥ 90%"].map(function (text, i) {
        return el("div", null, [el("span", { "class": "swatch", style: { background: RAMP[i][1] } }), text]);
      });
      fill(div, [el("strong", null, labels.legend), rows]);
      return div;
    };
    legend.addTo(map);

    var current = null;  // the category and rule drawn
    function districtStyle(row, rule) {
      var value = barValue(row, rule);
      return { color: "#555", weight: 1, fillOpacity: 0.65,
        fillColor: colour(rule.kind === "capacity" && value !== null ? Math.min(value, 1) : value) };
    }
    function drawGaps(gaps) {
      gapLayer.clearLayers();
      var items = [];
      gaps.features.forEach(function (f, i) {
        var p = f.properties, ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
        var text = p.name + " (" + p.district + ") · " + p.elderly_population.toLocaleString() + " " + labels.elderly +
          (p.nearest_facility_m !== null ? " · " + Math.round(p.nearest_facility_m) + " " + labels.metres : "");
        L.circleMarker(ll, { radius: 4, color: "#b2182b", weight: 1, fillOpacity: 0.85, className: "gap-marker" })
          .bindTooltip(dom.text(text, "gap-text")).addTo(gapLayer);
        if (i < 20) { items.push(el("li", null, text)); }
      });
      fill(document.getElementById("gap-list"), items);
      document.getElementById("gap-total").textContent = gaps.total_uncovered + " " + labels.uncovered;
    }
    // Districts recoloured with a scenario's rows (code -> {covered_share, ...}).
    window.coverageRecolour = function (rowsByCode) {
      if (!districtLayer || !current) { return; }
      districtLayer.setStyle(function (feature) { return districtStyle(rowsByCode[feature.properties.code] || {}, current.rule); });
    };
    window.coverageDrawGaps = drawGaps;
    window.coverageCurrent = function () { return current; };

    function links(category) {
      var scope = document.getElementById("report-scope").value;
      document.getElementById("report-link").href = config.reportUrl + "?category=" + category + (scope ? "&" + scope : "");
      document.getElementById("csv-districts").href = config.coverageUrl + "?category=" + category + "&group_by=district&export=csv";
      document.getElementById("csv-gaps").href = config.gapsUrl + "?category=" + category + "&export=csv&limit=20000";
    }

    function load() {
      var category = select.value;
      mapDiv.removeAttribute("data-coverage");
      siteLayer.clearLayers();
      fill(document.getElementById("site-list"), null);
      document.getElementById("site-summary").textContent = "";
      links(category);
      return Promise.all([
        districtsReady,
        getJSON(config.coverageUrl + "?category=" + category + "&group_by=district"),
        getJSON(config.coverageUrl + "?category=" + category + "&group_by=cluster"),
        getJSON(config.gapsUrl + "?category=" + category + "&limit=300")
      ]).then(function (answers) {
        var districts = answers[0], byDistrict = answers[1], byCluster = answers[2], gaps = answers[3];
        var rule = byDistrict.rule, rows = {};
        byDistrict.results.forEach(function (row) { rows[row.code] = row; });
        fill(document.getElementById("rule"), [
          el("span", { "class": "rule-label" }, labels.rule + ": " + rule.label), el("br"),
          rule.description ? [el("span", { "class": "rule-description" }, rule.description), el("br")] : null,
          el("span", { "class": "rule-source" }, labels.source + ": " + rule.source)
        ]);
        if (districtLayer) { map.removeLayer(districtLayer); }
        districtLayer = L.geoJSON(districts, {
          style: function (feature) { return districtStyle(rows[feature.properties.code] || {}, rule); },
          onEachFeature: function (feature, path) {
            var row = rows[feature.properties.code] || {};
            path.bindTooltip(dom.text(feature.properties.name + " · " + row.covered + "/" + row.demand_points + " " +
              labels.share + " (" + pct(row.covered_share) + ")"), { sticky: true, className: "district-tooltip" });
          }
        }).addTo(map);
        districtLayer.bringToBack();
        if (!mapDiv.hasAttribute("data-fitted")) { map.fitBounds(districtLayer.getBounds()); mapDiv.setAttribute("data-fitted", "1"); }

        fill(document.querySelector("#cluster-table tbody"), byCluster.results.map(function (row) {
          return el("tr", null, [
            el("td", null, row.name), el("td", null, row.demand_points), el("td", null, row.covered),
            el("td", null, pct(row.covered_share)), el("td", null, (row.elderly_population - row.elderly_covered).toLocaleString())
          ]);
        }));
        drawChart(byDistrict.results.filter(function (r) { return r.demand_points > 0; }), rule, labels);

        drawGaps(gaps);
        current = { rule: rule, category: category };
        document.getElementById("suggest").disabled = rule.kind === "capacity";
        mapDiv.setAttribute("data-coverage", category);
      }).catch(function (error) {
        document.getElementById("rule").textContent = labels.error + " " + error.message;
      });
    }

    // Suggested sites, streamed: progress lines as the work goes (a municipal run takes seconds), the result last.
    function suggestStream(url, onStep) {
      return fetch(url).then(function (r) {
        if (!r.ok) { return r.json().then(function (body) { throw new Error(body.error ? body.error.message : r.status); }); }
        var reader = r.body.getReader(), decoder = new TextDecoder(), buffer = "", last = null;
        function pump() {
          return reader.read().then(function (chunk) {
            buffer += decoder.decode(chunk.value || new Uint8Array(), { stream: !chunk.done });
            var lines = buffer.split("\n");
            buffer = lines.pop();
            lines.forEach(function (line) { if (line) { last = JSON.parse(line); onStep(last); } });
            if (chunk.done) { return last && last.result; }
            return pump();
          });
        }
        return pump();
      });
    }
    // Signed in, the same work runs as a job on a worker (POST, 202 with the job), its progress polled.
    function suggestJob(category, k, onStep) {
      var token = document.querySelector("#suggest-job-form input[name=csrfmiddlewaretoken]").value;
      return window.portalJobs.start(config.suggestJobUrl, { category: category, k: Number(k) }, token).then(function (job) {
        return window.portalJobs.follow(job.url, function (state) {
          onStep({ progress: state.progress / 100, stage: state.status === "queued" ? "queued" : state.message });
        });
      }).then(function (job) { return job.result; });
    }
    function suggestRun(category, k, onStep) {
      if (config.suggestJobUrl && window.portalJobs) { return suggestJob(category, k, onStep); }
      return suggestStream(config.suggestUrl + "?stream=1&category=" + category + "&k=" + encodeURIComponent(k), onStep);
    }
    document.getElementById("suggest").addEventListener("click", function () {
      var category = select.value, k = document.getElementById("k").value;
      var summary = document.getElementById("site-summary"), list = document.getElementById("site-list");
      var progress = document.getElementById("site-progress");
      summary.textContent = labels.loading;
      progress.hidden = false;
      progress.value = 0;
      fill(list, null);
      list.removeAttribute("data-count");
      siteLayer.clearLayers();
      suggestRun(category, k, function (step) {
        progress.value = step.progress;
        if (step.stage === "queued") { summary.textContent = labels.queued; }
        if (labels["stage_" + step.stage]) { summary.textContent = labels["stage_" + step.stage]; }
      }).then(function (result) {
        progress.hidden = true;
        var items = result.features.map(function (f) {
          var p = f.properties, ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
          var text = labels.site + " " + p.at_name + " (" + p.district + "): " + labels.newly + " " +
            p.population_newly_covered.toLocaleString() + " " + labels.people;
          L.circleMarker(ll, { radius: 9, color: "#2166ac", weight: 3, fillColor: "#67a9cf", fillOpacity: 0.9, className: "site-marker" })
            .bindTooltip(dom.text(String(p.rank)), { permanent: true, direction: "center", className: "site-label" })
            .addTo(siteLayer);
          return el("li", null, text);
        });
        fill(list, items);
        summary.textContent = items.length ? result.population_newly_covered.toLocaleString() + " " + labels.people + " " + labels.total
          : labels.nothing;
        list.setAttribute("data-count", items.length);
      }).catch(function (error) { progress.hidden = true; summary.textContent = labels.error + " " + error.message; });
    });
    select.addEventListener("change", load);
    document.getElementById("report-scope").addEventListener("change", function () { links(select.value); });
    var ready = load();
    if (window.coverageScenarioInit) { window.coverageScenarioInit(map, config, labels, select, load, ready); }
  };
})();
