"""The words of dual registration: kinds of partner unit, with their Chinese labels, and the
state of a registration record (a member's report or a unit's pairing)."""

from __future__ import annotations

from enum import StrEnum


class RecordState(StrEnum):
    """State of a dual-registration record (a member's report or a unit's pairing)."""

    ACTIVE = "active"
    ENDED = "ended"


class PartnerKind(StrEnum):
    GOVERNMENT = "government"
    INSTITUTION = "institution"
    ENTERPRISE = "enterprise"
    OTHER = "other"


PARTNER_KIND_LABELS: dict[PartnerKind, str] = {
    PartnerKind.GOVERNMENT: "党政机关",
    PartnerKind.INSTITUTION: "事业单位",
    PartnerKind.ENTERPRISE: "企业",
    PartnerKind.OTHER: "其他",
}
