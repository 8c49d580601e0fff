"""What the dual-registration API tests share: paths, the refusal check, and the counts of
partner units, pairings, registrations and audit rows that a refused request leaves as they were."""

from __future__ import annotations

from datetime import date

from gridpoints.audit.tables import AuditEntry
from gridpoints.members.tables import MemberRegistration
from gridpoints.partners.tables import PartnerUnit, UnitPairing

MEMBERS = "/api/v1/members"
PARTNERS = "/api/v1/partner-units"
NOWHERE = 987_654_321


def refused(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if field is not None:
        named = [e["field"] for e in body.get("errors", [])]
        # An unknown field is named only in `detail` (msgspec gives no path for it).
        assert field in named or f"`{field}`" in body["detail"], body
    return body


async def row_counts() -> tuple[int, int, int, int]:
    return (
        await PartnerUnit.count(),
        await UnitPairing.count(),
        await MemberRegistration.count(),
        await AuditEntry.count(),
    )


async def last_audit() -> dict:
    return await AuditEntry.select().order_by(AuditEntry.id, ascending=False).first()


def day(text: str) -> date:
    return date.fromisoformat(text)
