"""Facilities' long work as jobs (found by procrastinate's autodiscovery of ``tasks`` modules)."""

from facilities.reports import coverage_report_html
from facilities.suggestions import coverage_suggest_steps
from gis_portal.jobs.services import Outcome, Report, job_file_write, job_task

SUGGEST_JOB = "facilities.suggest"
REPORT_JOB = "facilities.report"


@job_task(SUGGEST_JOB)
def suggest_job(params: dict, report: Report) -> Outcome:
    """Suggested sites (``coverage_suggest_steps``), each stage reported as progress."""
    for step in coverage_suggest_steps(**params):
        if step["stage"] == "done":
            return Outcome(result=step["result"])
        report(step["progress"] * 100, step["stage"])
    raise RuntimeError("the suggestion steps ended without a result")


@job_task(REPORT_JOB)
def report_job(params: dict, report: Report) -> Outcome:
    """The coverage report (``coverage_report_html``) as a file of the job's own."""
    report(10, "report")
    text = coverage_report_html(**params)
    scope = params.get("district_code") or params.get("cluster") or "chongqing"
    name = f"coverage-{params['category']}-{scope}.html"
    path = job_file_write(report.job_id, name, text.encode("utf-8"))
    return Outcome(result={"name": name, "bytes": len(text.encode("utf-8"))}, result_file=path)
