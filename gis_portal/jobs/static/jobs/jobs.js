/* Jobs on the pages: start one (POST, answered 202 with the job) and follow it by polling
   GET /api/v1/jobs/{id} until it succeeds (the promise gives the job, its result in it) or fails
   (the promise is rejected with the job's error, the job itself as the error's .job). The page
   shows progress from onProgress(job); nothing here writes to the page. No eval, no inline script
   (CSP). */
(function () {
  "use strict";

  var POLL_MS = 1000;

  function answer(r) {
    return r.json().then(function (data) {
      if (!r.ok) { throw new Error(data.error ? data.error.message : String(r.status)); }
      return data;
    });
  }

  function start(url, body, csrfToken) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(body)
    }).then(answer);
  }

  function follow(url, onProgress) {
    return new Promise(function (resolve, reject) {
      function poll() {
        fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(answer).then(function (job) {
          if (onProgress) { onProgress(job); }
          if (job.status === "succeeded") { resolve(job); return; }
          if (job.status === "failed") {
            var failure = new Error(job.error || "failed");
            failure.job = job;  // its error_code and error_status, for a page that shows them
            reject(failure);
            return;
          }
          window.setTimeout(poll, POLL_MS);
        }).catch(reject);
      }
      poll();
    });
  }

  window.portalJobs = { start: start, follow: follow };
})();
