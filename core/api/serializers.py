"""Serializer helpers shared by the apps' APIs."""

from __future__ import annotations

import threading


class FieldsCopiedOncePerThread:
    """Mix into a plain ``Serializer`` read on every request of a busy endpoint (the case
    intake): its declared fields are deep-copied once per thread and class instead of once per
    instance. DRF copies them for every serializer made, which for a dozen fields took more
    CPU than validating the body. Each new serializer binds the kept fields to itself, so
    they serve one serializer at a time within their thread; they keep no state of a request.
    """

    _kept = threading.local()

    def get_fields(self):
        kept = self._kept.__dict__
        fields = kept.get(type(self))
        if fields is None:
            fields = kept[type(self)] = super().get_fields()
        else:
            for field in fields.values():
                # binding fills a field's source in from its name; give it back the source it
                # was declared with (DRF keeps the declaration in ``_kwargs``) to bind again
                field.source = field._kwargs.get("source")
        return dict(fields)
