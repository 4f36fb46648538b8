"""The serving process's heap, settled once the application has started.

Python's full (generation 2) garbage collection walks every tracked object. A started
coordinator holds some 180,000 of them (modules, SQLAlchemy's mappers and compiled
statements, Litestar's routes), none of them garbage. Under the report loop a full
collection came every few seconds of CPU and took 95-170 ms here
(benchmarks/load/gc_pauses.py): a pause for every request in flight on that worker.
Moving the startup heap to the permanent generation (`gc.freeze`) leaves full
collections only the objects made since: 20-25 ms at the longest.

There is no collection before the freeze: a full one found about a thousand garbage
objects right after start (frozen with the rest, once), and costs 0.1-0.4 s, paid again
by every application a test process starts.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Exempts everything the started process holds from later collections."""
    gc.freeze()


def unsettle() -> None:
    """Undoes settle(): an application stopped in a process that goes on (tests) leaves
    its objects to the collector again."""
    gc.unfreeze()
