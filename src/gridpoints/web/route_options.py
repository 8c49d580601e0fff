"""The keys of route handlers' `opt` that the platform reads, each with what it means.
Set on a route as `opt={KEY: True}`."""

from __future__ import annotations

# Public: no token needed (sign-in, health checks, the static pages).
EXCLUDE_FROM_AUTH = "exclude_from_auth"
# The token is checked as everywhere, but the route reads its member (and checks that they
# may still sign in) within its own first statement; `request.user` is a `Caller`. For the
# busiest route, where that saves a round trip to the database.
LOADS_OWN_PRINCIPAL = "loads_own_principal"
# Open to a member who signed in with a temporary password and has not yet changed it
# (reading oneself, changing the password, signing out).
ALLOWED_BEFORE_PASSWORD_CHANGE = "allowed_before_password_change"
# Open to partner units' contacts (their unit's record, signing out). Every other route is
# for members.
FOR_PARTNER_CONTACTS = "for_partner_contacts"
