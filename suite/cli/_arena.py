"""Imported first by ``suite.cli``: every command but ``mock`` runs with one malloc arena.

glibc fixes its arena limit at the first thread arena it makes, and importing pyarrow (which every
command module does) already starts a thread that allocates; so the limit is set here, by import,
before anything else. ``suite.runtime.one_malloc_arena`` says why; ``llmsuite mock`` (a serving
process with threads of its own) keeps glibc's default.
"""

from __future__ import annotations

import sys

from suite.runtime import one_malloc_arena

if sys.argv[1:2] != ["mock"]:
    one_malloc_arena()
