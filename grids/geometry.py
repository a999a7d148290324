"""Grid boundaries: GeoJSON Polygon/MultiPolygon in WGS 84 (lng, lat), checked with shapely."""

from dataclasses import dataclass
from typing import Any

import shapely
from django.utils.translation import gettext as _
from shapely import GEOSException
from shapely.geometry import Point, mapping, shape
from shapely.geometry.base import BaseGeometry

from core.errors import DomainError

ALLOWED_TYPES = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class BBox:
    min_lng: float
    min_lat: float
    max_lng: float
    max_lat: float


def boundary_clean(value: Any) -> tuple[dict, BBox]:
    """Return the boundary as normalised GeoJSON and its bounding box, or raise DomainError.

    Accepts a GeoJSON geometry or a Feature wrapping one.
    """
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if not isinstance(value, dict) or value.get("type") not in ALLOWED_TYPES:
        raise DomainError(_("The boundary must be a GeoJSON Polygon or MultiPolygon."))
    try:
        geom = shape(value)
    except (GEOSException, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise DomainError(
            _("The boundary is not valid GeoJSON: %(error)s") % {"error": exc}
        ) from exc
    if geom.is_empty:
        raise DomainError(_("The boundary is empty."))
    if not geom.is_valid:
        from shapely.validation import explain_validity

        raise DomainError(
            _("The boundary is not a valid polygon: %(why)s") % {"why": explain_validity(geom)}
        )
    min_lng, min_lat, max_lng, max_lat = geom.bounds
    if not (-180 <= min_lng <= max_lng <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise DomainError(_("The boundary's coordinates must be longitude, latitude in degrees."))
    return _as_geojson(geom), BBox(min_lng, min_lat, max_lng, max_lat)


def _as_geojson(geom: BaseGeometry) -> dict:
    data = mapping(geom)
    # shapely returns tuples; JSON columns round-trip lists, so store lists.
    return {"type": data["type"], "coordinates": _listify(data["coordinates"])}


def _listify(value):
    if isinstance(value, (list, tuple)):
        return [_listify(v) for v in value]
    return value


def geometry(boundary: dict) -> BaseGeometry:
    return shape(boundary)


def prepared_from_text(text: str) -> BaseGeometry:
    """A stored boundary (its GeoJSON text, as the database hands it over) made a geometry
    prepared for repeated point tests: read by GEOS's own GeoJSON reader, several times
    faster than ``json.loads`` and ``shape`` building it from Python lists."""
    geom = shapely.from_geojson(text)
    shapely.prepare(geom)
    return geom


def point(*, lat: float, lng: float) -> Point:
    return Point(lng, lat)


def covers_point(boundary: dict, *, lat: float, lng: float) -> bool:
    return shape(boundary).covers(Point(lng, lat))


def within(inner: dict, outer: dict, *, tolerance: float = 1e-9) -> bool:
    return shape(outer).buffer(tolerance).covers(shape(inner))


def overlaps_area(a: dict, b: dict) -> float:
    return shape(a).intersection(shape(b)).area


def rectangle(min_lng: float, min_lat: float, max_lng: float, max_lat: float) -> dict:
    ring = [
        [min_lng, min_lat],
        [max_lng, min_lat],
        [max_lng, max_lat],
        [min_lng, max_lat],
        [min_lng, min_lat],
    ]
    return {"type": "Polygon", "coordinates": [ring]}
