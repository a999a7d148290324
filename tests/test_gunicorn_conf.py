"""gunicorn.conf.py: each web worker reads the grid outlines ahead when it starts."""

import importlib.util
import logging
from pathlib import Path

import pytest

from grids import selectors
from grids.tests.conftest import small_city_build

ROOT = Path(__file__).resolve().parent.parent


def _conf():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Worker:
    log = logging.getLogger("test-gunicorn-worker")


@pytest.mark.django_db
def test_a_starting_worker_keeps_the_outlines_ready(caplog):
    small_city_build()
    selectors._grid_shape.cache_clear()
    with caplog.at_level(logging.INFO, logger="test-gunicorn-worker"):
        _conf().post_worker_init(_Worker())
    assert selectors._grid_shape.cache_info().currsize == 9
    assert "grid outlines kept ready: 9" in caplog.text


@pytest.mark.django_db
def test_a_worker_starts_even_when_the_outlines_cannot_be_read(monkeypatch, caplog):
    from django.db import OperationalError

    def down(**_kw):
        raise OperationalError("the database is not up yet")

    monkeypatch.setattr(selectors, "outlines_warm", down)
    with caplog.at_level(logging.WARNING, logger="gridsup"):
        _conf().post_worker_init(_Worker())
    assert "grid outlines not read ahead" in caplog.text
