"""The serving process's heap, settled once the application has started.

Python's full (generation 2) garbage collection walks every tracked object. A started
coordinator holds some 190,000 of them (modules, SQLAlchemy's mappers and compiled
statements, Litestar's routes), none of them garbage. Under load a full collection came
every few seconds of CPU and took 95-165 ms here (benchmarks/load/gc_pauses.py): a
pause for every request in flight on that worker. Moving the startup heap to the
permanent generation (`gc.freeze`) leaves full collections only the objects made
since: a few ms.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect the startup garbage, then exempt what is left from later collections."""
    gc.collect()
    gc.freeze()


def unsettle() -> None:
    """Undo settle(): an application stopped in a process that goes on (tests) leaves
    its objects to the collector again."""
    gc.unfreeze()
