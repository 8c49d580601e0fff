"""The one Piccolo app of the platform: its tables, and its migrations in the top-level
`migrations/` folder."""

from piccolo.conf.apps import AppConfig

from gridpoints.activities.tables import Activity
from gridpoints.audit.tables import AuditEntry
from gridpoints.auth.tables import AuthSession
from gridpoints.checkins.tables import CheckIn
from gridpoints.events.tables import VerifiedEvent
from gridpoints.jobs.tables import Job, JobInput, JobOutput
from gridpoints.members.tables import Member, MemberRegistration, RoleAssignment
from gridpoints.org.tables import OrgUnit
from gridpoints.partners.tables import PartnerAccount, PartnerUnit, UnitPairing
from gridpoints.points.tables import ClosedPeriod, PeriodLock, PointsEntry, ScoredEvent
from gridpoints.resources import resource_dir
from gridpoints.service_records.tables import ServiceRecord
from gridpoints.wishes.tables import Wish

APP_CONFIG = AppConfig(
    app_name="gridpoints",
    migrations_folder_path=str(resource_dir("migrations")),
    table_classes=[
        OrgUnit,
        PartnerUnit,
        Member,
        RoleAssignment,
        UnitPairing,
        MemberRegistration,
        AuditEntry,
        Job,
        JobInput,
        JobOutput,
        Activity,
        CheckIn,
        VerifiedEvent,
        ServiceRecord,
        Wish,
        PartnerAccount,
        PointsEntry,
        ScoredEvent,
        PeriodLock,
        ClosedPeriod,
        AuthSession,
    ],
    migration_dependencies=[],
    commands=[],
)
