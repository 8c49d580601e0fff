"""Coordinates as Chinese maps and phones give them, brought to the one datum stored: WGS-84.

Browser geolocation and GPS give WGS-84. Maps and pickers in China give shifted coordinates:
GCJ-02 (Amap, Tencent, WeChat's `wx.getLocation` and location pickers) and BD-09 (Baidu). The
same spot differs by 100–650 m between them (about 480 m in central Shanghai), so each
coordinate the API takes carries its datum and is converted here before it is stored or
compared.

Source of the formulas, as implemented by the `prcoords` package (Mingye Wang, PRCoords,
public domain under CC0):
- WGS-84 → GCJ-02 is the published obfuscation ("ChinaMapShift" source code made public in
  2013): offsets in metres from two trigonometric series in (lng − 105, lat − 35), turned into
  degrees on the Krasovsky 1940 ellipsoid (a = 6378245 m, e² = 0.00669342162296594323).
- GCJ-02 → WGS-84 has no closed form; it is solved by fixed-point iteration of the forward
  transform (Cai Jun's method in the R package geoChina, 2014), `gcj_wgs_bored`. Against the
  forward transform, over 20,000 random points in China, the iterated inverse is off by at most
  5 mm (the one-step inverse that many libraries ship is off by up to 4.4 m).
- GCJ-02 ↔ BD-09 is Baidu's own transform (polar coordinates with ±0.00002 / ±0.000003
  perturbations and a 0.0065°/0.0060° offset); BD-09 is taken back to GCJ-02 by the same
  iteration, then to WGS-84: off by at most 5 mm over those points.

Outside mainland China's bounding box (the one that transform itself uses) the maps give
WGS-84, and nothing is shifted, whatever the datum said. This module checks the box itself:
`prcoords`'s iterated inverses shift every point, in China or not (Paris by 1.5 km).
"""

from __future__ import annotations

from enum import StrEnum

import prcoords


class Datum(StrEnum):
    """Which map's coordinates a latitude and longitude are in."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


def in_china(lat: float, lng: float) -> bool:
    """Inside the box where Chinese maps shift coordinates."""
    return bool(prcoords.sanity_in_china_p(prcoords.Coords(lat, lng)))


def to_wgs84(lat: float, lng: float, datum: Datum | str) -> tuple[float, float]:
    """The WGS-84 latitude and longitude of a point given in `datum`."""
    datum = Datum(datum)
    if datum is Datum.WGS84 or not in_china(lat, lng):
        return lat, lng
    gcj = prcoords.Coords(lat, lng)
    if datum is Datum.BD09:
        gcj = prcoords.bd_gcj_bored(gcj)
    if not in_china(gcj.lat, gcj.lon):
        return float(gcj.lat), float(gcj.lon)
    wgs = prcoords.gcj_wgs_bored(gcj)
    return float(wgs.lat), float(wgs.lon)
