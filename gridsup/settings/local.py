"""Development and the README's run command: debug on, embedded database and broker by default."""

import os

from .base import *  # noqa: F403
from .base import VAR_DIR, env_bool

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-not-for-production"  # noqa: S105
VAR_DIR.mkdir(parents=True, exist_ok=True)
