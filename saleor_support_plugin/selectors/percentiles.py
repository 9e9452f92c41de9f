"""Percentiles of durations between two timestamp columns: in PostgreSQL when we run on it, else in Python.

Both paths use ``percentile_cont``'s definition (linear interpolation between the two nearest ranks), so
``make run`` on SQLite reports the same numbers as production for the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Func, QuerySet


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "percentile_cont"
    name = "PercentileCont"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: object, *, fraction: float, **extra: object) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be within [0, 1]")
        # A float literal we produced ourselves, never user input, so it can sit in the SQL text.
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def epoch_seconds_between(start: str, end: str) -> Func:
    """``end - start`` in seconds (PostgreSQL)."""
    return Func(
        F(end) - F(start), template="EXTRACT(EPOCH FROM %(expressions)s)::double precision", output_field=FloatField()
    )


def percentile_cont(values: Sequence[float], fraction: float) -> float | None:
    """``percentile_cont`` over already sorted ``values``; None when there are none."""
    if not values:
        return None
    position = fraction * (len(values) - 1)
    low, high = math.floor(position), math.ceil(position)
    return values[low] + (values[high] - values[low]) * (position - low)


def percentiles_in_database() -> bool:
    return connection.vendor == "postgresql"


def duration_percentiles(
    rows: QuerySet, start: str, end: str, fractions: Sequence[float]
) -> tuple[int, list[float | None]]:
    """(row count, the ``fractions`` percentiles of ``end - start`` in seconds) over ``rows``.

    ``rows`` must already exclude rows whose ``end`` is null. One aggregate query on PostgreSQL; elsewhere
    the durations are read and sorted in Python.
    """
    if percentiles_in_database():
        seconds = epoch_seconds_between(start, end)
        aggregates = {f"p{i}": PercentileCont(seconds, fraction=f) for i, f in enumerate(fractions)}
        row = rows.aggregate(n=Count("pk"), **aggregates)
        return row["n"], [row[f"p{i}"] for i in range(len(fractions))]
    values = sorted((b - a).total_seconds() for a, b in rows.values_list(start, end))
    return len(values), [percentile_cont(values, f) for f in fractions]
