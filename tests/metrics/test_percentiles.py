"""The Python ``percentile_cont`` (SQLite path) agrees with PostgreSQL's on the same rows."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from saleor_support_plugin.models import Case
from saleor_support_plugin.selectors import percentiles
from saleor_support_plugin.selectors.percentiles import PercentileCont, duration_percentiles, percentile_cont
from tests.feedback import builders

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([], 0.5, None),
        ([7.0], 0.9, 7.0),
        ([1.0, 2.0, 3.0, 4.0], 0.5, 2.5),
        ([10.0, 20.0, 30.0, 40.0, 50.0, 60.0], 0.9, 55.0),
        ([10.0, 20.0, 30.0], 0.0, 10.0),
        ([10.0, 20.0, 30.0], 1.0, 30.0),
    ],
)
def test_percentile_cont_interpolates_between_ranks(values, fraction, expected):
    assert percentile_cont(values, fraction) == expected


def test_fraction_outside_zero_one_is_a_programming_error():
    with pytest.raises(ValueError):
        PercentileCont("pk", fraction=1.5)


def test_postgres_and_python_agree_on_random_durations(test_installation, monkeypatch):
    # given 37 cases with random first-response times (to the microsecond)
    rng = random.Random(4)
    for _ in range(37):
        builders.case(
            test_installation,
            created_at=T0,
            first_responded_at=T0 + timedelta(seconds=rng.randint(1, 90_000), microseconds=rng.randint(0, 999_999)),
        )
    rows = Case.objects.filter(installation=test_installation)

    # when
    in_db = duration_percentiles(rows, "created_at", "first_responded_at", (0.5, 0.9, 0.99))
    monkeypatch.setattr(percentiles, "percentiles_in_database", lambda: False)
    in_python = duration_percentiles(rows, "created_at", "first_responded_at", (0.5, 0.9, 0.99))

    # then
    assert in_db[0] == in_python[0] == 37
    assert in_db[1] == pytest.approx(in_python[1], abs=1e-6)
