// Which roles carry the capabilities a page shows its parts by, as the server decides them
// (src/gridpoints/auth/permissions.py, ROLE_CAPABILITIES). The server still judges every
// request; these lists only keep a page from offering what would be refused.
// Kept to syntax that old Android WebViews parse (see api.js).

// manage_members: add and edit members, set a temporary password.
export const MANAGE_MEMBERS = [
  "admin",
  "committee_member",
  "branch_secretary",
  "grid_leader",
  "building_head",
  "unit_head",
];

// manage_partners: partner units, their contacts' accounts, pairings, registrations.
export const MANAGE_PARTNERS = ["admin", "committee_member"];

// The member's roles (from /api/v1/me) that are one of `allowed`.
export function rolesWith(roles, allowed) {
  return (roles || []).filter((r) => allowed.indexOf(r.role) !== -1);
}

export function holdsAny(roles, allowed) {
  return rolesWith(roles, allowed).length > 0;
}
