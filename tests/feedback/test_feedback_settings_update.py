"""Per-installation survey switches and delays."""

from __future__ import annotations

from datetime import timedelta

import pytest

from saleor_support_plugin.errors import PermanentError
from saleor_support_plugin.models import FeedbackSettings
from saleor_support_plugin.selectors.feedback import feedback_settings_get
from saleor_support_plugin.services.feedback import feedback_settings_update
from tests.feedback.conftest import T0


def test_surveys_are_off_until_switched_on(test_installation):
    settings = feedback_settings_get(installation=test_installation)

    assert (settings.csat_enabled, settings.nps_enabled, settings.pk) == (False, False, None)
    assert (settings.csat_delay_minutes, settings.nps_delay_minutes) == (60, 4320)


def test_switching_on_stamps_the_moment_and_switching_off_keeps_it(test_installation):
    # when
    feedback_settings_update(installation=test_installation, csat_enabled=True, csat_delay_minutes=0, at=T0)
    feedback_settings_update(installation=test_installation, csat_enabled=True, at=T0 + timedelta(days=1))
    row = feedback_settings_update(installation=test_installation, csat_enabled=False, at=T0 + timedelta(days=2))

    # then
    assert (row.csat_enabled, row.csat_enabled_at, row.csat_delay_minutes) == (False, T0, 0)
    assert (row.nps_enabled, row.nps_enabled_at) == (False, None)
    assert FeedbackSettings.objects.count() == 1


def test_settings_are_per_installation(test_installation, other_installation):
    feedback_settings_update(installation=test_installation, nps_enabled=True, nps_delay_minutes=10)

    other = feedback_settings_get(installation=other_installation)

    assert (other.nps_enabled, other.nps_delay_minutes) == (False, 4320)


@pytest.mark.parametrize("value", [-1, 60 * 24 * 60 + 1, True, "60", 1.5])
def test_bad_delays_are_refused(test_installation, value):
    with pytest.raises(PermanentError) as error:
        feedback_settings_update(installation=test_installation, csat_delay_minutes=value)

    assert (error.value.code, error.value.field) == ("INVALID", "csat_delay_minutes")
    assert not FeedbackSettings.objects.exists()
