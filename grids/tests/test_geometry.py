"""grids.geometry: a stored boundary read for point tests answers as shapely's own shape."""

import json

import pytest
from shapely.geometry import Point, shape

from grids import geometry

SQUARE_WITH_HOLE = {
    "type": "Polygon",
    "coordinates": [
        [[118.0, 35.0], [118.2, 35.0], [118.2, 35.2], [118.0, 35.2], [118.0, 35.0]],
        [[118.05, 35.05], [118.1, 35.05], [118.1, 35.1], [118.05, 35.1], [118.05, 35.05]],
    ],
}
TWO_ISLANDS = {
    "type": "MultiPolygon",
    "coordinates": [
        [[[118.0, 35.0], [118.1, 35.0], [118.1, 35.1], [118.0, 35.0]]],
        [[[118.3, 35.3], [118.4, 35.3], [118.4, 35.4], [118.3, 35.3]]],
    ],
}


@pytest.mark.parametrize("boundary", [SQUARE_WITH_HOLE, TWO_ISLANDS])
@pytest.mark.parametrize(
    ("lng", "lat"),
    [
        (118.15, 35.15),  # inside
        (118.07, 35.07),  # in the hole
        (118.0, 35.1),  # on the outer edge
        (118.35, 35.32),  # inside the second island
        (118.5, 35.5),  # outside both
    ],
)
def test_a_boundary_read_from_its_text_covers_the_same_points(boundary, lng, lat):
    prepared = geometry.prepared_from_text(json.dumps(boundary))
    assert prepared.covers(Point(lng, lat)) == shape(boundary).covers(Point(lng, lat))
