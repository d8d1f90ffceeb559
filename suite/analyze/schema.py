"""The shapes of summary.json (schema ``llmsuite.summary/2``) as TypedDicts, one per block.

Why: the summary is a nested dict read far from where it is built (the HTML report, the terminal
tables, per_model.csv, SLO checks, headlines, sweep rows). Typed, a renamed or misspelt field is an
error in the type checker, not a ``KeyError`` at report time. TypedDicts are plain dicts at run
time: key order, values and the JSON written are exactly what the producers build, at no cost.

Rule kept by every block: a value that could not be measured is ``None`` beside a ``why``, never a
default. A key that is present only sometimes sits in a ``total=False`` class (the ``...Optional``
bases), so the type says which fields a reader must check for. Blocks that alternate with ``Why``
are ``@final``, so ``if "why" in block`` narrows the union for the type checker.
docs/summary-schema.md documents every field, with units, from these classes.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict, final

# --- building blocks (suite.analyze.summarize.metrics) -------------------------------------------------


class _ValueRequired(TypedDict):
    value: float | None


class Value(_ValueRequired, total=False):
    """A scalar metric: ``value`` with its ``unit``, or ``value: None`` and ``why``."""

    unit: str
    why: str


class SpeedupValue(Value, total=False):
    """A speedup (unit ``x``): with a bootstrap ``ci`` [lo, hi] when computed, else ``ci_why``."""

    ci: list[float]
    ci_why: str


class _DistRequired(TypedDict):
    n: int
    mean: float | None
    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    max: float | None
    unit: str


class Dist(_DistRequired, total=False):
    """A distribution of per-request values: sample size and statistics; ``n: 0``, every statistic
    None and a ``why`` when nothing was measured."""

    why: str


@final
class Why(TypedDict):
    """A block that could not be computed at all: only the reason."""

    why: str


# --- per group (one model, or the whole run): suite.analyze.summarize.groups ----------------------------


class ToolView(TypedDict):
    """One tool's names for the same requests (``compat.vllm`` / ``compat.guidellm``)."""

    tpot: Dist
    itl: Dist


class Compat(TypedDict):
    """The same requests under vLLM's and GuideLLM's formulas (see ``definitions``)."""

    vllm: ToolView
    guidellm: ToolView


class LatencyBlocks(TypedDict):
    """Latency distributions over the successful requests (TTFT and TPOT: streamed ones)."""

    ttft: Dist
    e2e: Dist
    tpot: Dist
    itl: Dist
    itl_mean: Dist


class _ThroughputRequired(TypedDict):
    output_tokens: int
    ok_without_token_count: int
    output_tokens_per_s: Value
    requests_per_s: Value
    ok_requests_per_s: Value


class ThroughputBlock(_ThroughputRequired, total=False):
    """Rates over the run's measured window; ``note`` when ok requests lacked token counts."""

    note: str


class OpenLoopBlock(TypedDict):
    """Schedule lag and latency from the scheduled send time (``n: 0`` with why in closed loop)."""

    lateness: Dist
    e2e_from_scheduled: Dist
    ttft_from_scheduled: Dist


class GroupBlock(LatencyBlocks, ThroughputBlock, OpenLoopBlock):
    """Everything measured for one model (``models.<name>``) or for all requests (``overall``)."""

    requests: int
    ok: int
    failed: int
    error_ratio: float
    errors_by_kind: dict[str, int]
    compat: Compat


# --- run and totals: suite.analyze.summarize.summary ----------------------------------------------------


class Window(TypedDict):
    start: float
    end: float
    seconds: float


class Partial(TypedDict, total=False):
    """Why a run's log covers only part of it (the driver's run.json ``extra.partial``)."""

    reason: str  # always present: one sentence per cause
    interrupted: dict[str, Any]  # {"signal": "SIGTERM", "at": epoch}
    lost_workers: list[dict[str, Any]]  # index, worker, records, sent, in_flight, in_flight_ids, noticed_at


class _CoverageRequired(TypedDict):
    corpus_requests: int | None  # run.json requests_in_corpus (the whole corpus, before --max-requests)
    sent: int | None
    not_sent: int | None
    # corpus_exhausted | duration | max_requests | abort | signal | worker_lost; None: unexplained
    stopped_by: str | None
    note: str | None  # the sentence the report, the terminal and a sweep print


class Coverage(_CoverageRequired, total=False):
    """How much of the corpus the run sent and what stopped it (suite.analyze.summarize.coverage)."""

    why: str  # when a fact is null: what run.json lacks


class _RunRequired(TypedDict):
    run_dir: str
    records: int
    files: list[str]
    warmup_excluded: int
    targets: list[str]
    workers: int
    users_seen: int
    open_loop: bool
    window: Window
    meta: dict[str, Any]  # run.json as written by the driver (suite.records.RunMeta), else {"why"}


class RunSection(_RunRequired, total=False):
    """What was run: run.json's metadata plus what the records show."""

    aborted: dict[str, Any]
    partial: Partial  # only when the log covers part of the run (run.json extra.partial)
    coverage: Coverage  # every summary written since the node was added
    # the columnar mirrors read instead of JSONL, or why one was passed over (read.columnar)
    log_source: dict[str, Any]


class ErrorRow(TypedDict):
    kind: str
    count: int
    share: float
    statuses: list[int]
    example: str | None


class Totals(TypedDict):
    sent: int
    ok: int
    failed: int
    error_ratio: float
    errors: list[ErrorRow]
    status_counts: dict[str, int]


class Generator(TypedDict):
    name: str
    version: str
    numpy: str
    pandas: str
    pyarrow: str


class Missing(TypedDict):
    """One unmeasured value: its dotted path in the summary, the reason, and whether it is normal for
    the kind of run (``suite.analyze.summarize.unmeasured``)."""

    path: str
    why: str
    expected: bool


# --- cache: suite.analyze.summarize.cache ---------------------------------------------------------------


class Latency(TypedDict):
    """E2E and TTFT of one side of a split (hits, misses, repeats, first-seen)."""

    e2e: Dist
    ttft: Dist


class Speedups(TypedDict):
    e2e_p50: SpeedupValue
    e2e_p95: SpeedupValue
    ttft_p50: SpeedupValue
    ttft_p95: SpeedupValue


class Outcome(TypedDict):
    """Successful requests split by the target's cache signal; failures counted apart (a failure is
    neither a hit nor a miss: ``failed_with_signal`` of them carried a signal anyway)."""

    requests_with_signal: int
    hits: int
    misses: int
    failed: int
    failed_with_signal: int
    hit_ratio: Value
    hit: Latency
    miss: Latency
    speedup: Speedups


@final
class ByRepeat(TypedDict):
    """Requests split by the corpus's ground truth (or ``{"why"}``: no repeat flags recorded)."""

    repeat_requests: int
    first_seen_requests: int
    repeat: Latency
    first_seen: Latency
    speedup: Speedups


class _MissClassRequired(TypedDict):
    count: int | None
    share: float | None


class MissClass(_MissClassRequired, total=False):
    """How many repeat misses fell in one class, and their share of all repeat misses (None + why
    when there were none, or, for ``expired``, when the TTL is unknown)."""

    why: str


class TtlValue(Value, total=False):
    """The cache's TTL in seconds and where it came from (analyze option or run.json), or why unknown."""

    source: str


class _MissGapRequired(TypedDict):
    requests: int
    theoretical_in_run: Value
    observed: Value
    points: Value
    in_flight_points: Value
    first_copy_failed_points: Value
    after_finish_points: Value
    expired_points: Value
    first_seen_hits: int


class MissGap(_MissGapRequired, total=False):
    """Theoretical (key sent earlier in this run) minus observed hit ratio, in percentage points,
    over successful requests with a signal and a key; each class's points; hits on first-seen keys."""

    note: str


@final
class RepeatMisses(TypedDict):
    """Successful misses whose key was sent earlier in the run, explained (suite.analyze.summarize.misses)."""

    misses: int
    first_seen_misses: int
    repeat_misses: int
    without_key: int
    in_flight: MissClass
    first_copy_failed: MissClass
    after_finish: MissClass
    expired: MissClass
    ttl_s: TtlValue
    coalescing_would_add: Value
    gap: MissGap


class ModelRatio(Value, total=False):
    """Slow model's p50 / fast model's p50, with a bootstrap ``ci`` and ``significant`` (the CI
    excludes 1), or ``ci_why`` and ``significant: None``."""

    ci: list[float]
    ci_why: str
    significant: bool | None


@final
class ModelComparison(TypedDict):
    """Fastest vs slowest model on like-for-like requests (suite.analyze.summarize.modelcompare)."""

    population: Literal["miss", "first_seen", "all"]
    population_text: str
    metric: Literal["ttft", "e2e"]
    fast: str
    slow: str
    fast_p50: float
    slow_p50: float
    fast_n: int
    slow_n: int
    ratio: ModelRatio


class CacheModel(Outcome):
    by_repeat: ByRepeat | Why
    repeat_misses: RepeatMisses | Why


class Phase(TypedDict):
    requests: int
    failed: int
    hit_ratio: Value
    repeat_ratio: Value
    e2e: Dist


class Phases(TypedDict):
    cold_until: float
    cold: Phase
    steady: Phase


class _TheoreticalRequired(TypedDict):
    hit_ratio: Value
    repeat_ratio: Value
    corpus_requests: int | None


@final
class Theoretical(_TheoreticalRequired, total=False):
    """What the corpus allows an exact-match cache at best (manifest), incl. bounded caches."""

    lru: Any
    ttl: Any


class _CacheDetectionRequired(TypedDict):
    rule: str
    reattributed: bool
    requests_with_signal: int
    signal_found: str | None
    preset: str | None
    signals: dict[str, int]


class CacheDetection(_CacheDetectionRequired, total=False):
    """Which signal said hit/miss (suite.analyze.summarize.cachesignal); ``why`` when none was
    found, ``hint`` (the options) when the corpus repeats itself yet no signal came."""

    why: str
    hint: str


class CacheSection(Outcome):
    signal_coverage: float | None
    corpus_repeat_ratio: Value
    theoretical: Theoretical | Why
    gain_bound: Value
    confusion: dict[str, int] | Why
    by_repeat: ByRepeat | Why
    phases: Phases
    repeat_misses: RepeatMisses | Why
    model_comparison: ModelComparison | Why
    bootstrap: dict[str, float]
    models: dict[str, CacheModel]
    detection: CacheDetection


# --- tokens and cost: suite.analyze.summarize.accounting ------------------------------------------------


class _DiscrepancyRequired(TypedDict):
    pairs: int


class Discrepancy(_DiscrepancyRequired, total=False):
    """tiktoken − usage completion tokens where both were recorded; ``pairs: 0`` and ``why`` if none."""

    why: str
    exact_share: float
    usage_tokens: int
    tiktoken_tokens: int
    total_relative: Value
    difference: Dist
    relative_difference: Dist


class ModelCost(Value, total=False):
    """USD of one model's successful requests (or None and why: not priced / no token counts)."""

    priced_as: str
    input_per_1m: float
    output_per_1m: float
    input: float
    output: float
    unpriced_requests: int
    saved_by_cache_hits: Value
    note: str


class Cost(TypedDict, total=False):
    """Dollars at a dated price table, or only ``why`` when no table could be read."""

    why: str
    as_of: str
    source: str
    table: str
    models: dict[str, ModelCost]
    total: Value
    saved_by_cache_hits: Value
    note: str


class CachedTokens(Value, total=False):
    """Sum of ``usage.prompt_tokens_details.cached_tokens`` over the successful requests that
    reported it (``reported_by`` of them), or ``value: None`` and why when none did — never 0."""

    reported_by: int


class Tokens(TypedDict):
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: CachedTokens
    tokens_source: dict[str, int]
    discrepancy: Discrepancy
    cost: Cost


# --- timeline: suite.analyze.summarize.timeline ---------------------------------------------------------


class _SeriesRequired(TypedDict):
    width_s: float


class TimelineSeries(_SeriesRequired, total=False):
    """Counts per bucket of ``width_s`` seconds; only ``width_s`` and ``why`` past the bucket cap."""

    why: str
    start: float
    buckets: int
    completed: list[int]
    ok: list[int]
    failed: list[int]
    sent: list[int]
    output_tokens: list[float]


Timeline = TypedDict("Timeline", {"1s": TimelineSeries, "10s": TimelineSeries})


# --- SLO and goodput: suite.analyze.summarize.slo -------------------------------------------------------


class _GoodputRequired(TypedDict):
    slo: str
    limits: dict[str, float]
    good: int
    sent: int
    goodput: Value
    goodput_ratio: Value


class GoodputBlock(_GoodputRequired, total=False):
    rule: str


@final
class Goodput(GoodputBlock, total=False):
    """Requests/s that met the SLO's per-request limits, overall and per model."""

    models: dict[str, GoodputBlock]


class SloCheck(TypedDict):
    metric: str
    stat: str | None
    op: Literal["<", "<=", ">", ">="]
    threshold: float
    value: float | None
    scope: str
    passed: bool
    why: str


class _VerdictRequired(TypedDict):
    profile: str
    source: str
    passed: bool
    checks: list[SloCheck]


@final
class SloVerdict(_VerdictRequired, total=False):
    note: str


# --- read beside the summary: target metrics, slowest requests (suite.analyze.pipeline) -----------------


class TargetSeriesFacts(TypedDict, total=False):
    """min / max / last of one monitored series over its points, or only ``why``."""

    why: str
    min: float
    max: float
    last: float
    points: int


@final
class TargetMetrics(TypedDict):
    """Scrapes of the target's /metrics during the run (``suite.monitor``), or ``{"why"}``."""

    scrapes: int
    failed: int
    span_s: float
    series: dict[str, TargetSeriesFacts]




class _SlowestRequired(TypedDict):
    id: str
    model: str
    ok: bool
    e2e: float | None
    cache: str | None
    error: str | None
    prompt: str | None


class SlowestRow(_SlowestRequired, total=False):
    prompt_why: str


# --- hits judged against the corpus: suite.analyze.summarize.semanticsection ---------------------------


class _ProportionRequired(TypedDict):
    value: float | None
    k: int
    n: int


class Proportion(_ProportionRequired, total=False):
    """``k`` of ``n`` as a ratio with its Wilson 95 % ``ci`` [lo, hi]; value None and ``why`` at n = 0."""

    unit: str
    ci: list[float]
    why: str


class CannotJudge(TypedDict):
    figure: str
    why: str


class _SemanticRequired(TypedDict):
    served_key_header: str | None
    similarity_header: str | None
    requests: int
    hits: int
    hit_ratio: Proportion
    corpus: dict[str, Any]


class SemanticSection(_SemanticRequired, total=False):
    """Every hit classed exact / paraphrase / false against the corpus (docs/summary-schema.md);
    a figure that cannot be judged is listed in ``cannot_judge`` with why, and absent."""

    opportunities: dict[str, int]
    hits_by_class: dict[str, int]
    false_hit_ratio: Proportion
    precision: Proportion
    recall: Proportion
    savings: dict[str, Any]
    similarity: dict[str, dict[str, float]]
    note: str
    cannot_judge: list[CannotJudge]


# --- prompt-prefix cache: suite.analyze.summarize.prefix ------------------------------------------------


class PrefixShare(TypedDict):
    requests: int
    prompt_tokens: int
    cached_tokens: int
    cached_share: Value
    requests_with_cached: int
    requests_with_cached_share: float


class PrefixModel(PrefixShare):
    """One model: its share, the fitted prefill rate (``slope`` s/token with a bootstrap ``ci``,
    ``intercept`` s; or ``why``) and what its cached tokens saved at the cached-input price."""

    expected_cached_share: Value
    prefill_fit: dict[str, Any]
    cost_saved: dict[str, Any]


class PrefixCache(PrefixShare):
    """Cached-token share over requests reporting ``cached_tokens`` (response-cache hits excluded),
    per model with a prefill-rate fit, the corpus's expected share, and the cost saved."""

    basis: str
    response_cache_hits_excluded: int
    expected_cached_share: Value
    models: dict[str, PrefixModel]
    cost_saved: Value


# --- the whole file -------------------------------------------------------------------------------------


class _SummaryRequired(TypedDict):
    schema: str
    generator: Generator
    run: RunSection
    totals: Totals
    overall: GroupBlock
    models: dict[str, GroupBlock]
    cache: CacheSection
    tokens: Tokens
    timeline: Timeline
    goodput: Goodput | Why
    slo: SloVerdict | Why
    headlines: list[str]
    missing: list[Missing]
    definitions: dict[str, str]


class Summary(_SummaryRequired, total=False):
    """summary.json. ``summarize`` builds every key above; the pipeline adds the target's series and
    the slowest requests (``analyze_run`` / ``analyze_and_write`` always do)."""

    target_metrics: TargetMetrics | Why
    slowest: list[SlowestRow]
    semantic: SemanticSection
    prefix_cache: PrefixCache | Why
