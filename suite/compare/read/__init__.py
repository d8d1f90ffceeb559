"""Reading runs for a comparison: ``samples`` turns a run folder (through the analyze stage's loader)
into ``RunSamples``, the per-request arrays every comparison and sweep row is computed from."""
