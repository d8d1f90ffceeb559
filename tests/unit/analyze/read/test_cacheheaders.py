"""Reading the recorded cache headers: aligned with the analyzed frame (warm-up rows dropped), null
where a record lacks one, odd values read by the orjson pass; run.json's rule and allow-list."""

from __future__ import annotations

from pathlib import Path

from suite.analyze.read.cacheheaders import read_cache_headers, recorded
from suite.records import RunMeta


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_columns_line_up_with_the_measured_rows(tmp_path: Path) -> None:
    log = write(tmp_path / "requests.jsonl",
                '{"id":"a","warmup":false,"itl":[0.1],"cache_headers":{"x-cache":"HIT","other":"z"}}\n'
                '{"id":"b","warmup":true,"cache_headers":{"x-cache":"MISS"}}\n\n'
                '{"id":"c","cache_headers":{"helicone-cache":"MISS"}}\n{"id":"d"}\n')
    got = read_cache_headers([log], ["x-cache", "helicone-cache"])
    assert {k: v.to_pylist() for k, v in got.items()} == {
        "x-cache": ["HIT", None, None], "helicone-cache": [None, "MISS", None]}


def test_an_odd_value_goes_through_the_slow_pass(tmp_path: Path) -> None:
    log = write(tmp_path / "requests.jsonl",
                '{"id":"a","cache_headers":{"x-cache":7}}\n{"id":"b","cache_headers":{"x-cache":"HIT"}}\n')
    assert read_cache_headers([log], ["x-cache"])["x-cache"].to_pylist() == [None, "HIT"]


def test_shards_are_read_in_the_order_given(tmp_path: Path) -> None:
    one = write(tmp_path / "requests.w0.jsonl", '{"id":"a","cache_headers":{"x-cache":"HIT"}}\n')
    two = write(tmp_path / "requests.w1.jsonl", '{"id":"b","cache_headers":{"x-cache":"MISS"}}\n')
    assert read_cache_headers([one, two], ["x-cache"])["x-cache"].to_pylist() == ["HIT", "MISS"]


def test_recorded_reads_run_json_or_says_none() -> None:
    def meta(extra: dict) -> RunMeta:
        return RunMeta("r", "t", "", "", 1, 0.0, 0.0, extra=extra)

    got = recorded(meta({"cache_headers": {"rule": "present:X-Hit", "allowlist": ["X-Hit", "x-cache"]}}))
    assert got is not None and got.rule == "present:X-Hit" and got.allowlist == ("x-hit", "x-cache")
    assert recorded(meta({})) is None and recorded(None) is None


def test_the_slow_reader_keeps_the_headers_too(tmp_path: Path) -> None:
    """A line the fast reader refuses (an ``itl`` summary) sends the file through orjson: the
    recorded headers come along the same."""
    from suite.analyze.read.cacheheaders import header_columns
    from suite.analyze.read.load import load_run

    write(tmp_path / "requests.jsonl",
          '{"id":"a","model":"m","t_start":1.0,"itl":{"mean":0.1},"cache_headers":{"x-cache":"HIT"}}\n'
          '{"id":"b","model":"m","t_start":2.0,"cache_headers":{"x-cache":"MISS","x-mine":"1"}}\n')
    run = load_run(tmp_path)
    got = header_columns(run, ["x-cache", "x-mine"])
    assert got["x-cache"].to_pylist() == ["HIT", "MISS"] and got["x-mine"].to_pylist() == [None, "1"]
