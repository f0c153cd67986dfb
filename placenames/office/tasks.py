"""The naming office's long work as jobs (found by procrastinate's autodiscovery of ``tasks``)."""

from boundaries.selectors import district_by_code
from gis_portal.jobs.services import Outcome, Report, job_file_write, job_task
from placenames.office.register import district_register_pdf

REGISTER_JOB = "office.register_pdf"


@job_task(REGISTER_JOB)
def register_job(params: dict, report: Report) -> Outcome:
    """A district's printed register (``district_register_pdf``) as a PDF of the job's own."""
    district = district_by_code(code=params["district_code"])
    report(10, "register")
    pdf = district_register_pdf(district=district)
    name = f"register-{district.code}.pdf"
    return Outcome(result={"name": name, "bytes": len(pdf)}, result_file=job_file_write(report.job_id, name, pdf))
