/* The batch locate form: posts the file to /api/v1/locate/batch and offers the located file as a
   download; an error (bad rows by line, a file too large) is shown as text (portal/dom.js). */
(function () {
  "use strict";

  var dom = window.portalDom, el = dom.el, fill = dom.fill;
  var form = document.getElementById("locate-batch-form");
  var labels = dom.readJSON("batch-labels");
  var status = document.getElementById("batch-status"), result = document.getElementById("batch-result");
  var previous = null;

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    status.textContent = labels.working;
    fill(result, null);
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    fetch(form.action, { method: "POST", body: new FormData(form), headers: { "X-CSRFToken": token }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          return response.json().then(function (body) { throw new Error(body.error ? body.error.message : String(response.status)); },
            function () { throw new Error(String(response.status)); });
        }
        var disposition = response.headers.get("Content-Disposition") || "";
        var match = /filename="([^"]+)"/.exec(disposition);
        return response.blob().then(function (blob) { return { blob: blob, name: match ? match[1] : "located" }; });
      })
      .then(function (file) {
        if (previous) { URL.revokeObjectURL(previous); }
        previous = URL.createObjectURL(file.blob);
        status.textContent = labels.done;
        fill(result, el("a", { href: previous, download: file.name, id: "batch-download" }, file.name));
        document.getElementById("batch-download").click();
      })
      .catch(function (error) { status.textContent = labels.error + " " + error.message; });
  });
})();
