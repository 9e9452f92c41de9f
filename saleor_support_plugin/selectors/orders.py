"""Read our order snapshots (always within one installation)."""

from __future__ import annotations

from saleor_support_plugin.models import OrderSnapshot


def order_snapshot_get(*, installation_id: int, order_id: str) -> OrderSnapshot | None:
    """The snapshot of this Saleor order in this installation, if we hold one."""
    if not order_id:
        return None
    return OrderSnapshot.objects.filter(installation_id=installation_id, saleor_id=order_id).first()
