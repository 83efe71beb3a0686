"""Pause Python's cyclic garbage collector while the pipeline builds its large object graph.

Collection and evaluation create hundreds of thousands of small, acyclic, long-lived
objects; the cyclic collector would rescan them over and over (about half the run time on
a 100,000-resource state). Reference counting still frees everything as usual.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector inside the block; restore its previous state after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if not gc.get_freeze_count():  # (nobody else froze objects: none to thaw)
                # What the block built joins the oldest generation unscanned: else the
                # first collection after it walks all of it (a fifth of a second per
                # million objects) to free nothing. A full collection still frees any
                # cycle among them.
                gc.freeze()
                gc.unfreeze()
            gc.enable()
