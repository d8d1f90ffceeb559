"""Input-length targets: generated context (logs, tables, documents) that brings a prompt to a token
target drawn from a lognormal with the requested median and p90.

Context is assembled from a pool of seeded chunks whose token counts are known per model (each chunk
ends in a newline, so counts add up almost exactly); the request's final ``prompt_tokens`` is then
counted for real like every other prompt.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from suite.synth.validate import Where, check_keys, integer, mapping, non_empty_list, unknown_name
from suite.tokens import encoding_for

Z90 = 1.2815515655446004  # the standard normal's 90th percentile
POOL_SIZE = 400
LEVELS = ("INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG")
COMPONENTS = ("scheduler", "worker-3", "webhook-gw", "ocr", "erp-sync", "mailer", "db-pool", "api")
EVENTS = ("execution started", "node completed in 412 ms", "retrying after 429 Too Many Requests",
          "connection reset by peer", "queue depth 184", "token refreshed", "validation failed: vat_number",
          "payload 18.2 KiB accepted", "lock acquired on invoice batch", "timeout after 30000 ms")
STATUSES = ("received", "validated", "awaiting approval", "approved", "paid", "rejected")
WORDS = ("the", "invoice", "workflow", "approval", "supplier", "policy", "period", "amount", "report",
         "system", "customer", "order", "must", "be", "reviewed", "within", "days", "of", "receipt",
         "and", "all", "exceptions", "are", "escalated", "to", "finance", "team", "when", "a", "threshold",
         "is", "exceeded", "each", "record", "includes", "status", "owner", "date", "reference")


@dataclass(frozen=True)
class InputTarget:
    """Prompt-length target: lognormal with this median and p90 (tokens), filled with these kinds."""

    median: int
    p90: int
    kinds: tuple[str, ...]

    def draw(self, rng: random.Random) -> int:
        sigma = math.log(self.p90 / self.median) / Z90
        return max(1, round(rng.lognormvariate(math.log(self.median), sigma)))

    def to_dict(self) -> dict[str, Any]:
        return {"median": self.median, "p90": self.p90, "context": list(self.kinds)}


def _log_chunk(rng: random.Random) -> str:
    lines = [f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
             f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z {rng.choice(LEVELS)} "
             f"[{rng.choice(COMPONENTS)}] exec-{rng.randint(10**7, 10**8 - 1)} {rng.choice(EVENTS)}"
             for _ in range(4)]
    return "\n".join(lines) + "\n"


def _table_chunk(rng: random.Random) -> str:
    rows = [f"| INV-2025-{rng.randint(10000, 99999)} | PO-{rng.randint(100000, 999999)} | "
            f"€{rng.uniform(85, 98000):,.2f} | {rng.choice(STATUSES)} |" for _ in range(4)]
    return "\n".join(rows) + "\n"


def _document_chunk(rng: random.Random) -> str:
    sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."
                 for _ in range(3)]
    return " ".join(sentences) + "\n"


CONTEXT_KINDS: dict[str, Callable[[random.Random], str]] = {
    "logs": _log_chunk,
    "table": _table_chunk,
    "document": _document_chunk,
}
HEADERS = {"logs": "Recent log lines:", "table": "Invoice table (id | PO | amount | status):",
           "document": "Reference document:"}


class ContextPool:
    """Seeded chunks per kind, with their token counts per model (counted once each)."""

    def __init__(self, target: InputTarget, rng: random.Random) -> None:
        self.target = target
        self.rng = rng
        self.chunks = {k: [CONTEXT_KINDS[k](rng) for _ in range(POOL_SIZE)] for k in target.kinds}
        self.tokens: dict[tuple[str, str], list[int]] = {}

    def _counts(self, model: str, kind: str) -> list[int]:
        key = (model, kind)
        if key not in self.tokens:
            encode = encoding_for(model).encode_ordinary
            self.tokens[key] = [len(encode(c)) for c in self.chunks[kind]]
        return self.tokens[key]

    def context(self, model: str, need: int) -> str:
        """About ``need`` tokens of context (empty when none is needed)."""
        if need <= 0:
            return ""
        kind = self.rng.choice(self.target.kinds)
        counts = self._counts(model, kind)
        parts, total = [HEADERS[kind] + "\n"], 10
        while total < need:
            i = self.rng.randrange(POOL_SIZE)
            if total + counts[i] - need > need - total:
                break  # stopping here lands closer to the target than adding this chunk
            parts.append(self.chunks[kind][i])
            total += counts[i]
        return "".join(parts) + "\n"


def parse_input_tokens(raw: Any, where: Where) -> InputTarget | None:
    if raw is None:
        return None
    raw = mapping(raw, where, "{median: N, p90: M, context: [logs, table, document]}")
    check_keys(raw, where, {"median": "median prompt tokens", "p90": "90th-percentile prompt tokens"},
               ("context",))
    median = integer(raw["median"], where.at("median"), "median token count", 1)
    p90 = integer(raw["p90"], where.at("p90"), "p90 token count", 1)
    if p90 <= median:
        raise where.at("p90").error(f"{p90} is not a valid p90 (must be > median {median}).")
    kinds = non_empty_list(raw.get("context", ["document"]), where.at("context"), "context kinds")
    for i, kind in enumerate(kinds):
        if kind not in CONTEXT_KINDS:
            message = unknown_name("context kind", str(kind), CONTEXT_KINDS)
            raise where.at("context").at(i).error(message + ".")
    return InputTarget(median, p90, tuple(str(k) for k in kinds))
