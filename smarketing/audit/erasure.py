"""Erasing a person's data (GDPR art. 17), the same from the CLI and the lead page: the
erasure event and the key's deletion (``SmarketingApplication.erase_personal_data``), the
read models caught up, and the monthly report's private copy told to forget the lead."""

from smarketing.bootstrap import Services
from smarketing.reports.replica import open_replica


def erase_person(svc: Services, lead_id: str, reason: str) -> int:
    """Erase the lead's personal data; the version of the erasure event."""
    version = svc.app.erase_personal_data(lead_id, reason)
    svc.projector.catch_up()
    replica = open_replica(svc.settings, svc.app.recorder, svc.app.mapper)
    try:
        replica.forget(lead_id)  # the monthly report's private copy of the read models
    finally:
        replica.close()
    return version
