"""The comparison dict (compare.json): ``build`` assembles it from ``deltas`` (unpaired A/B rows with
bootstrap CIs), ``paired`` (per-request deltas when both runs replayed one corpus) and ``headline``
(sentences written only from those numbers)."""
