"""Uploaded photos: an image, not too big, hashed (SHA-256) so evidence cannot be swapped later."""

import hashlib

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from core.errors import DomainError


def photo_check(upload: UploadedFile) -> str:
    """Return the SHA-256 of an uploaded photo, or raise DomainError if it is not an image or
    is too big."""
    if upload.size is not None and upload.size > settings.PHOTO_MAX_BYTES:
        raise DomainError(
            _("The photo %(name)s is larger than %(mb)s MB.")
            % {"name": upload.name, "mb": settings.PHOTO_MAX_BYTES // (1024 * 1024)},
            photos=[_("Too large.")],
            status=413,
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DomainError(
            _("%(name)s is not an image.") % {"name": upload.name}, photos=[_("Not an image.")]
        ) from exc
    upload.seek(0)
    return digest.hexdigest()
