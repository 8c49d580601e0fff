"""Coordinates from Chinese maps brought to WGS-84: the iterated inverse to the centimetre,
and nothing shifted outside China."""

from __future__ import annotations

import prcoords
import pytest

from gridpoints.checkins.flags import distance_m
from gridpoints.geo import Datum, in_china, to_wgs84

# WGS-84 places across China (Shanghai, Beijing, Shenzhen, Urumqi, Harbin, Lhasa, Jiuquan).
PLACES = [
    (31.2304, 121.4737),
    (39.9087, 116.3975),
    (22.5431, 114.0579),
    (43.8256, 87.6168),
    (45.8038, 126.5350),
    (29.6525, 91.1721),
    (39.7320, 98.4941),
]


def test_the_shanghai_venue_picked_on_a_gcj02_map_is_the_wgs84_fix():
    lat, lng = to_wgs84(31.228458, 121.478223, Datum.GCJ02)
    assert distance_m(lat, lng, 31.2304, 121.4737) < 1
    # Taken as WGS-84, the same numbers are some 480 m off.
    assert distance_m(31.228458, 121.478223, 31.2304, 121.4737) > 450


@pytest.mark.parametrize(("lat", "lng"), PLACES)
def test_gcj02_comes_back_to_the_centimetre_though_it_is_shifted_by_hundreds_of_metres(lat, lng):
    gcj = prcoords.wgs_gcj((lat, lng))
    assert distance_m(lat, lng, *gcj) > 90
    back = to_wgs84(gcj.lat, gcj.lon, Datum.GCJ02)
    # The one-step inverse most libraries ship is off by up to about 4 m.
    assert distance_m(lat, lng, *back) < 0.05


@pytest.mark.parametrize(("lat", "lng"), PLACES)
def test_bd09_comes_back_to_the_centimetre(lat, lng):
    bd = prcoords.wgs_bd((lat, lng))
    assert distance_m(lat, lng, *bd) > 300
    back = to_wgs84(bd.lat, bd.lon, "bd09")
    assert distance_m(lat, lng, *back) < 0.05


@pytest.mark.parametrize("datum", list(Datum))
@pytest.mark.parametrize(
    ("lat", "lng"),
    [
        pytest.param(48.8566, 2.3522, id="paris"),
        pytest.param(40.7128, -74.0060, id="new-york"),
        pytest.param(-33.8688, 151.2093, id="sydney"),
        pytest.param(35.6762, 139.6503, id="tokyo"),
    ],
)
def test_nothing_is_shifted_outside_china(datum, lat, lng):
    assert not in_china(lat, lng)
    assert to_wgs84(lat, lng, datum) == (lat, lng)


def test_wgs84_is_kept_as_it_is():
    assert to_wgs84(31.2304, 121.4737, Datum.WGS84) == (31.2304, 121.4737)
    assert in_china(31.2304, 121.4737)


def test_an_unknown_datum_is_refused():
    with pytest.raises(ValueError, match="gcj"):
        to_wgs84(31.2304, 121.4737, "gcj")
