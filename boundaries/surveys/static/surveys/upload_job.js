/* The upload page after a large file was queued (answered 202): follow its job (jobs.js) and show
   its progress, then a link to the upload's report, or the refusal with its error code and HTTP
   status (the ones the synchronous upload answers). Everything goes in as text, never as HTML. */
(function () {
  "use strict";
  var panel = document.getElementById("upload-job");
  if (!panel || !window.portalJobs) { return; }
  var labels = panel.dataset;
  var progress = document.getElementById("upload-job-progress");
  var status = document.getElementById("upload-job-status");

  // The job's stage (its message: checking, parsing, validating) as a sentence of the page's language.
  function stageText(job) {
    if (job.status === "queued") { return labels.queued; }
    var key = "stage" + job.message.charAt(0).toUpperCase() + job.message.slice(1);
    return labels[key] || labels.running;
  }

  window.portalJobs.follow(panel.getAttribute("data-job-url"), function (job) {
    progress.value = job.progress;
    status.textContent = stageText(job);
  }).then(function (job) {
    progress.value = 100;
    status.textContent = job.result.passed ? labels.passed : labels.notPassed;
    var link = document.getElementById("upload-job-link");
    link.setAttribute("href", job.result.page);
    document.getElementById("upload-job-result").hidden = false;
    panel.setAttribute("data-upload", job.result.upload);
    panel.setAttribute("data-state", "succeeded");
  }).catch(function (error) {
    var job = error.job, box = document.getElementById("upload-job-error");
    progress.hidden = true;
    status.textContent = job ? labels.refused : labels.lost;
    box.textContent = error.message + (job && job.error_code ? " (" + job.error_code + ", HTTP " + job.error_status + ")" : "");
    box.hidden = false;
    panel.setAttribute("data-state", "failed");
  });
})();
