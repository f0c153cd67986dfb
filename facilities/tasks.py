"""Facilities' long work as jobs (found by procrastinate's autodiscovery of ``tasks`` modules)."""

from facilities.suggestions import coverage_suggest_steps
from gis_portal.jobs.services import Outcome, Report, job_task

SUGGEST_JOB = "facilities.suggest"


@job_task(SUGGEST_JOB)
def suggest_job(params: dict, report: Report) -> Outcome:
    """Suggested sites (``coverage_suggest_steps``), each stage reported as progress."""
    for step in coverage_suggest_steps(**params):
        if step["stage"] == "done":
            return Outcome(result=step["result"])
        report(step["progress"] * 100, step["stage"])
    raise RuntimeError("the suggestion steps ended without a result")
