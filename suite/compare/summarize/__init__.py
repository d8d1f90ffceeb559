"""The comparison dict (compare.json): ``build`` assembles it from ``deltas`` (unpaired A/B rows with
bootstrap CIs), ``paired`` (per-request deltas when both runs replayed one corpus), ``population``
(which requests latency is read from), ``significance`` (the primary metric, p-values, Holm) and
``headline`` (sentences written only from those numbers)."""
