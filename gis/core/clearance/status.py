"""The ordered GPMB workflow (DOMAIN.md §4.2) and the words compensation boards write for it."""

from __future__ import annotations

from enum import Enum

from gis.fields import fold_name

__all__ = ["Status", "CLEARED", "parse_status"]


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

_WORDS: dict[Status, tuple[str, ...]] = {
    Status.PLANNED: ("kế hoạch thu hồi", "đã có kế hoạch thu hồi", "lập kế hoạch", "kế hoạch"),
    Status.CONSULTED: ("họp dân", "đã họp dân", "tham vấn", "đã tham vấn"),
    Status.NOTIFIED: ("đã thông báo thu hồi", "thông báo thu hồi", "đã thông báo", "thông báo"),
    Status.INVENTORIED: ("đã kiểm đếm", "kiểm đếm", "điều tra kiểm đếm", "đã điều tra kiểm đếm"),
    Status.FORCED_INVENTORY: ("kiểm đếm bắt buộc", "cưỡng chế kiểm đếm",
                              "đã kiểm đếm bắt buộc"),
    Status.PLAN_DRAFTED: ("đã lập phương án", "lập phương án", "dự thảo phương án"),
    Status.PLAN_POSTED: ("niêm yết phương án", "đã niêm yết", "đã niêm yết phương án",
                         "công khai phương án"),
    Status.PLAN_APPRAISED: ("thẩm định phương án", "đã thẩm định", "đã thẩm định phương án"),
    Status.PLAN_APPROVED: ("đã phê duyệt phương án", "phê duyệt phương án", "đã phê duyệt pa",
                           "đã phê duyệt"),
    Status.PLAN_DELIVERED: ("đã giao phương án", "giao phương án", "đã giao quyết định phê duyệt"),
    Status.PAID: ("đã chi trả", "chi trả", "đã nhận tiền", "đã chi trả tiền", "đã chi trả bồi thường"),
    Status.RECOVERY_DECIDED: ("đã có quyết định thu hồi", "quyết định thu hồi", "qđ thu hồi",
                              "đã ban hành quyết định thu hồi"),
    Status.HANDED_OVER: ("đã bàn giao mặt bằng", "bàn giao mặt bằng", "đã bàn giao",
                         "đã bàn giao mb", "hoàn thành gpmb"),
    Status.ENFORCED: ("cưỡng chế", "đã cưỡng chế", "cưỡng chế thu hồi", "đã cưỡng chế thu hồi"),
    Status.LAND_BANKED: ("đã giao đất", "giao chủ đầu tư", "đã giao đất cho chủ đầu tư",
                         "quản lý quỹ đất"),
}
_LOOKUP: dict[str, Status] = {}
for _status, _words in _WORDS.items():
    _LOOKUP[fold_name(_status.value)] = _status
    for _w in _words:
        _LOOKUP[fold_name(_w)] = _status


def parse_status(value: object) -> Status | None:
    """The workflow status a cell means, Vietnamese (with or without accents) or code; else None.

    >>> parse_status("Đã bàn giao mặt bằng"), parse_status("da chi tra"), parse_status("PAID")
    (<Status.HANDED_OVER: 'HANDED_OVER'>, <Status.PAID: 'PAID'>, <Status.PAID: 'PAID'>)
    >>> parse_status("Tạm dừng") is None
    True
    """
    if value is None or not isinstance(value, str) or not value.strip():
        return None
    return _LOOKUP.get(fold_name(value))
