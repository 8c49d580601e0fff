"""The place rule of a check-in: a declared accuracy widens the fence by at most the setting,
and a fix worse than the setting is flagged imprecise."""

from __future__ import annotations

import math

import pytest

from gridpoints.checkins.flags import EARTH_RADIUS_M, Fix, Flag, Place, distance_m, place_flags

MAX_ACCURACY_M = 200.0
VENUE = Place(30.2741, 120.1551, radius_m=100)


def fix_at(metres_north: float, accuracy_m: float) -> Fix:
    """A fix this far due north of the venue's centre."""
    return Fix(VENUE.lat + math.degrees(metres_north / EARTH_RADIUS_M), VENUE.lng, accuracy_m)


def flags(fix: Fix | None, place: Place = VENUE) -> list[Flag]:
    return place_flags(place, fix, MAX_ACCURACY_M)


def test_fixes_are_where_the_helper_puts_them():
    fix = fix_at(250, 10)
    assert distance_m(VENUE.lat, VENUE.lng, fix.lat, fix.lng) == pytest.approx(250, abs=0.01)


def test_a_claimed_accuracy_of_100_km_from_50_km_away_is_flagged_both_ways():
    assert flags(fix_at(50_000, 100_000)) == [Flag.IMPRECISE_LOCATION, Flag.OUTSIDE_FENCE]


@pytest.mark.parametrize(
    ("metres", "accuracy"),
    [
        pytest.param(60, 65, id="65m-network-fix-inside"),
        pytest.param(150, 65, id="65m-fix-whose-circle-reaches-in"),
        pytest.param(100, 0, id="exact-fix-on-the-edge"),
        pytest.param(0, 200, id="fix-as-coarse-as-allowed-at-the-centre"),
    ],
)
def test_a_coarse_fix_that_may_be_inside_is_not_flagged(metres, accuracy):
    assert flags(fix_at(metres, accuracy)) == []


def test_a_150m_fix_100m_outside_a_100m_fence_is_not_flagged_its_circle_reaches_50m_in():
    assert flags(fix_at(200, 150)) == []


def test_a_150m_fix_whose_circle_stays_outside_the_fence_is_flagged():
    assert flags(fix_at(260, 150)) == [Flag.OUTSIDE_FENCE]


def test_an_accuracy_beyond_the_setting_widens_the_fence_no_further_than_the_setting():
    # 350 m from the centre of a 100 m fence: a 500 m circle would reach in, a 200 m one not.
    assert flags(fix_at(350, 500)) == [Flag.IMPRECISE_LOCATION, Flag.OUTSIDE_FENCE]
    assert flags(fix_at(290, 500)) == [Flag.IMPRECISE_LOCATION]


def test_a_fix_worse_than_the_setting_is_imprecise_even_at_the_centre():
    assert flags(fix_at(0, 200.5)) == [Flag.IMPRECISE_LOCATION]
    assert flags(fix_at(0, 1500)) == [Flag.IMPRECISE_LOCATION]


def test_a_fix_without_a_declared_accuracy_counts_as_exact():
    assert flags(fix_at(101, 0)) == [Flag.OUTSIDE_FENCE]


def test_the_setting_bounds_both_rules():
    assert place_flags(VENUE, fix_at(140, 50), max_accuracy_m=30) == [
        Flag.IMPRECISE_LOCATION,
        Flag.OUTSIDE_FENCE,
    ]
    assert place_flags(VENUE, fix_at(140, 50), max_accuracy_m=50) == []


def test_no_fix_is_no_location():
    assert flags(None) == [Flag.NO_LOCATION]
