"""Content checks: a 200 with the wrong content is a failure too (kind ``content``, reason kept).

The original framework grepped answers for leaked internal terms; here a run can require JSON
fields, forbid terms (case-insensitive) or regular expressions, and set a minimum length. Compiled
once per run; ``ContentChecks.failure`` runs once per response, after it ended, and only when
checks were asked for (the default run pays nothing). With ``forbid=("internal-only",)`` and
``min_length=3``, "ok, INTERNAL-ONLY data" fails with "forbidden term 'internal-only' in the
response" and "ok" with "response has 2 character(s), fewer than the minimum 3".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from suite.driver.exchange.fieldpath import MISSING, Getter, compile_path
from suite.errors import SpecError

CONTENT_KIND = "content"


@dataclass(frozen=True)
class ContentChecks:
    required: tuple[tuple[str, Getter], ...] = ()
    forbid: tuple[str, ...] = ()  # lower case
    forbid_regex: tuple[re.Pattern[str], ...] = ()
    min_length: int | None = None

    @property
    def active(self) -> bool:
        return bool(self.required or self.forbid or self.forbid_regex or self.min_length)

    @classmethod
    def build(cls, require: Sequence[str] = (), forbid: Sequence[str] = (),
              forbid_regex: Sequence[str] = (), min_length: int | None = None) -> ContentChecks:
        """Compile the checks; SpecError naming the bad option and value."""
        if min_length is not None and min_length < 1:
            raise SpecError(f"--min-length: {min_length} is not valid (must be >= 1 characters).")
        empty = [t for t in forbid if not t.strip()]
        if empty:
            raise SpecError("--forbid: an empty term would match every response; give a word.")
        return cls(required=tuple((p, compile_path(p, "--require-field")) for p in require),
                   forbid=tuple(t.lower() for t in forbid),
                   forbid_regex=tuple(_regex(r) for r in forbid_regex), min_length=min_length)

    def failure(self, text: str, objects: Sequence[Any] | None) -> str | None:
        """Why this response fails its checks, or None. ``objects``: the decoded JSON body (one)
        or the stream's chunks that were kept for field checks; None when there was none."""
        for path, get in self.required:
            if not objects or all(get(obj) is MISSING for obj in objects):
                return f"required field {path!r} missing from the response"
        if self.forbid:
            lower = text.lower()
            for term in self.forbid:
                if term in lower:
                    return f"forbidden term {term!r} in the response"
        for rx in self.forbid_regex:
            if rx.search(text):
                return f"forbidden pattern {rx.pattern!r} matched the response"
        if self.min_length is not None and len(text) < self.min_length:
            return (f"response has {len(text)} character(s), fewer than the minimum "
                    f"{self.min_length}")
        return None


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise SpecError(f"--forbid-regex: {pattern!r} is not a valid regular expression ({exc}).") \
            from None
