"""The URL table: the API's routes come first (the busiest), and no route hides another."""

import re

from django.urls import get_resolver, resolve, reverse
from django.urls.resolvers import URLResolver


def _named_routes(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _named_routes(pattern.url_patterns, inner)
        elif pattern.name:
            yield namespace + pattern.name, pattern


_SAMPLE = {"int": "7", "str": "371302001001", "path": "7", "rowid": "7", "slug": "x"}


def _sample_kwargs(pattern) -> dict | None:
    """Values for a route's converters (None: a regex route, left out)."""
    route = str(pattern.pattern)
    if route.startswith("^"):
        return None
    return {name: _SAMPLE.get(kind, "7") for kind, name in re.findall(r"<(?:(\w+):)?(\w+)>", route)}


def test_every_named_route_resolves_back_to_itself():
    # given: every route with a name (the admin's own left to Django)
    checked = 0
    for name, pattern in _named_routes(get_resolver().url_patterns):
        kwargs = _sample_kwargs(pattern)
        if kwargs is None or name.startswith("admin:"):
            continue
        # when
        url = reverse(name, kwargs=kwargs)
        match = resolve(url)
        # then: no route earlier in the table caught it
        assert match.view_name == name, (url, match.view_name)
        checked += 1
    assert checked > 100


def test_the_api_routes_are_tried_first():
    first = get_resolver().url_patterns[0]
    assert str(first.pattern) == "api/v1/"
    assert resolve("/api/v1/cases/").url_name == "api-case-list"
