"""The ordered GPMB workflow (DOMAIN.md §4.2). The words boards write for each step are data
(``layers/sheets/vocabulary.yaml``), matched by :mod:`gis.core.clearance.wording`."""

from __future__ import annotations

from enum import Enum

__all__ = ["Status", "CLEARED", "LABELS_VI"]


class Status(str, Enum):
    """Steps of land recovery, in order (Land Law 2024 Art. 87 and the provincial handbooks)."""

    PLANNED = "PLANNED"
    CONSULTED = "CONSULTED"
    NOTIFIED = "NOTIFIED"
    INVENTORIED = "INVENTORIED"
    FORCED_INVENTORY = "FORCED_INVENTORY"
    PLAN_DRAFTED = "PLAN_DRAFTED"
    PLAN_POSTED = "PLAN_POSTED"
    PLAN_APPRAISED = "PLAN_APPRAISED"
    PLAN_APPROVED = "PLAN_APPROVED"
    PLAN_DELIVERED = "PLAN_DELIVERED"
    PAID = "PAID"
    RECOVERY_DECIDED = "RECOVERY_DECIDED"
    HANDED_OVER = "HANDED_OVER"
    ENFORCED = "ENFORCED"
    LAND_BANKED = "LAND_BANKED"

    @property
    def rank(self) -> int:
        """Position in the workflow (0 = PLANNED)."""
        return _RANK[self]

    @property
    def cleared(self) -> bool:
        """True from handover on: the site is recovered (mặt bằng đã giải phóng)."""
        return self in CLEARED

    @property
    def label_vi(self) -> str:
        """Vietnamese label."""
        return LABELS_VI[self]


CLEARED = frozenset({Status.HANDED_OVER, Status.ENFORCED, Status.LAND_BANKED})
_RANK = {status: i for i, status in enumerate(Status)}

LABELS_VI = {
    Status.PLANNED: "Đã có kế hoạch thu hồi", Status.CONSULTED: "Đã họp dân",
    Status.NOTIFIED: "Đã thông báo thu hồi", Status.INVENTORIED: "Đã kiểm đếm",
    Status.FORCED_INVENTORY: "Kiểm đếm bắt buộc", Status.PLAN_DRAFTED: "Đã lập phương án",
    Status.PLAN_POSTED: "Đã niêm yết phương án", Status.PLAN_APPRAISED: "Đã thẩm định phương án",
    Status.PLAN_APPROVED: "Đã phê duyệt phương án", Status.PLAN_DELIVERED: "Đã giao phương án",
    Status.PAID: "Đã chi trả", Status.RECOVERY_DECIDED: "Đã có quyết định thu hồi",
    Status.HANDED_OVER: "Đã bàn giao mặt bằng", Status.ENFORCED: "Cưỡng chế",
    Status.LAND_BANKED: "Đã giao đất cho chủ đầu tư",
}
