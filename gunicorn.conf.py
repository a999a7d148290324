"""gunicorn's hooks for GridSup (gunicorn reads this file from the directory it starts in).

Settings (bind, workers) stay on the command line (README, "Deployment"); this file only
prepares each web worker when it starts.
"""

import logging


def post_worker_init(worker):
    """Keep the grid outlines prepared before the worker's first request: a report located by
    its GPS point then tests the point against an outline already in memory, instead of the
    first reports after a deploy each reading and parsing one. A database that cannot be read
    yet only leaves the outlines to be read as reports need them."""
    from django.db import DatabaseError, connection

    from grids.selectors import outlines_warm

    try:
        kept = outlines_warm()
    except DatabaseError:
        logging.getLogger("gridsup").warning("grid outlines not read ahead", exc_info=True)
    else:
        worker.log.info("grid outlines kept ready: %s", kept)
    finally:
        connection.close()
