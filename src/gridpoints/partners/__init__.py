"""Partner units (报到单位/共建单位): their pairings with communities, their members' quarterly
record, and the accounts their contacts sign in with to download it."""
