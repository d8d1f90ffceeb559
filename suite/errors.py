"""One exception tree for the whole suite; only the CLI turns these into messages and exit codes.

SuiteError                 base: carries a message that names the input, the bad value and the fix
├── SpecError              a scenario spec / config value is invalid
├── CorpusError            a corpus file or line is unreadable or violates the contract
├── TokenizerError         an offline BPE file is missing or fails its hash check
├── ModelError             an unknown model or a bad model profile
├── TargetError            the target cannot be reached or answers unusably
├── CacheBackendError      the cache backend (Redis) is unusable where it is required
├── RunError               a load run failed (Locust exited badly, no records written)
└── AnalysisError          a request log cannot be analyzed
"""

from __future__ import annotations

# Exit codes that are verdicts, not errors: a finished run whose SLO check failed, or a run
# stopped early by an abort rule (run.json says why). CI gates on them.
EXIT_SLO_FAILED = 7
EXIT_RUN_ABORTED = 8
EXIT_REGRESSION = 9  # llmsuite check: a primary metric regressed significantly against the baseline
# A finished run in which more than --max-error-ratio of the requests failed (the RunError code:
# the load run did not measure what it was meant to). Precedence: abort 8 > error ratio 5 > SLO 7.
EXIT_ERROR_RATIO = 5


class SuiteError(Exception):
    """Base of every error the suite raises on purpose; ``str(err)`` is the user-facing message."""

    exit_code = 1


class SpecError(SuiteError):
    exit_code = 2


class CorpusError(SuiteError):
    exit_code = 2


class TokenizerError(SuiteError):
    exit_code = 3


class ModelError(SuiteError):
    exit_code = 2


class TargetError(SuiteError):
    exit_code = 4


class CacheBackendError(SuiteError):
    exit_code = 4


class RunError(SuiteError):
    exit_code = 5


class AnalysisError(SuiteError):
    exit_code = 6
