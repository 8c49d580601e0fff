"""Materialised-path arithmetic of the grid tree."""

from gridpoints.unit_paths import ancestor_ids, child_path, covers, minimal_scopes, subtree_bounds


def test_child_paths_extend_the_parent_path():
    assert child_path(None, 1) == "/1/"
    assert child_path("/1/7/", 42) == "/1/7/42/"


def test_a_unit_covers_itself_and_its_descendants_but_not_a_sibling_sharing_a_prefix():
    assert covers("/1/7/", "/1/7/")
    assert covers("/1/7/", "/1/7/42/9/")
    assert not covers("/1/7/", "/1/70/")
    assert not covers("/1/7/", "/1/")


def test_subtree_bounds_hold_exactly_the_subtree_in_byte_order():
    low, high = subtree_bounds("/1/7/")
    inside = ["/1/7/", "/1/7/0/", "/1/7/42/", "/1/7/999999/3/"]
    outside = ["/1/", "/1/70/", "/1/8/", "/1/6/", "/2/7/", "/1/79/"]
    assert all(low <= path < high for path in inside)
    assert not any(low <= path < high for path in outside)


def test_the_root_scope_bounds_every_path():
    low, high = subtree_bounds("/")
    assert all(low <= p < high for p in ["/1/", "/99/3/", "/123456789/"])


def test_ancestor_ids_run_from_the_root_down():
    assert ancestor_ids("/1/7/42/") == [1, 7, 42]
    assert ancestor_ids("/") == []


def test_minimal_scopes_drop_covered_paths():
    assert minimal_scopes(["/1/7/42/", "/1/7/", "/1/8/", "/1/7/"]) == ["/1/7/", "/1/8/"]
