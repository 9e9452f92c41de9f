"""SLA: business-hours calendars, policies, the clocks of a case, and the scan that escalates.

- ``calendar``: business-time arithmetic (DST-correct, O(days));
- ``policies``: default policies and which policy applies;
- ``clocks``: start / recompute / pause / resume / first response / stop of one case;
- ``scan``: the periodic breach and near-breach scan.
"""

from saleor_support_plugin.services.sla.calendar import (
    business_calendar_validate,
    business_minutes_add,
    business_seconds_between,
)
from saleor_support_plugin.services.sla.clocks import (
    sla_case_first_response,
    sla_case_pause,
    sla_case_recompute,
    sla_case_resume,
    sla_case_start,
    sla_case_stop,
)
from saleor_support_plugin.services.sla.policies import sla_defaults_ensure, sla_policy_for
from saleor_support_plugin.services.sla.scan import sla_scan

__all__ = [
    "business_calendar_validate",
    "business_minutes_add",
    "business_seconds_between",
    "sla_case_first_response",
    "sla_case_pause",
    "sla_case_recompute",
    "sla_case_resume",
    "sla_case_start",
    "sla_case_stop",
    "sla_defaults_ensure",
    "sla_policy_for",
    "sla_scan",
]
