"""How much faster is ``analyze`` on the columnar mirror (requests*.arrows) than on JSONL?

One run, same synthetic log (bench_analyze's records: two models, 16 gaps each, 2 % failures, 1 %
warm-up, two shards): the JSONL shards alone in one run folder, the same files (hard links) plus
their mirrors made by ``llmsuite log convert``'s function in another. Each measured step is a
fresh Python process (its own peak RSS, ``ru_maxrss``): load + full summary (no charts), wall and
CPU seconds, with the wall time of import, load and summarize; the two paths' runs alternate and
the best of each is kept. The convert itself is timed too.

    .venv/bin/python bench/bench_columnar.py              # 1M records (the default)
    .venv/bin/python bench/bench_columnar.py --big        # also 10M records (minutes; ~11 GB of disk)

Not a test: nothing here asserts a speed (targets, issue 17: 1M ≤ 2 s and ≥ 3× the JSONL path;
10M ≤ 20 s and ≤ 4 GB).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_analyze import measure, report

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def make_log(run_dir: Path, n: int) -> list[Path]:
    """Written by child processes in chunks (a 10M-record log does not fit this process's list)."""
    files = [run_dir / "requests.w0.jsonl", run_dir / "requests.w1.jsonl"]
    code = (f"import sys; sys.path[:0] = [{str(HERE)!r}, {str(ROOT)!r}]\n"
            "from bench_analyze import synthetic_lines\n"
            "n, seed, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]\n"
            "with open(path, 'ab') as fh:\n"
            "    fh.write(b''.join(synthetic_lines(n, seed)))\n")
    chunk = 500_000
    for i, path in enumerate(files):
        share = n // 2 if i == 0 else n - n // 2
        done = 0
        while done < share:
            k = min(chunk, share - done)
            subprocess.run([sys.executable, "-c", code, str(k), str(1000 * i + done // chunk), str(path)],
                           check=True)
            done += k
    return files


def convert(files: list[Path], into: Path) -> float:
    """Hard links of the JSONL shards in ``into`` plus their mirrors; the convert's wall seconds."""
    code = ("import sys; from pathlib import Path; from suite.logcolumns import convert_jsonl; "
            "from suite.cachesignal import allowlist\n"
            "for p in sys.argv[1:]: convert_jsonl(Path(p), allowlist())\n")
    linked = []
    for f in files:
        os.link(f, into / f.name)
        linked.append(into / f.name)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *map(str, linked)], check=True, cwd=ROOT)
    return time.perf_counter() - t0


def one_size(n: int, repeats: int, tmp: Path) -> dict[str, Any]:
    jsonl_dir, ipc_dir = tmp / f"jsonl-{n}", tmp / f"ipc-{n}"
    jsonl_dir.mkdir()
    ipc_dir.mkdir()
    t0 = time.perf_counter()
    files = make_log(jsonl_dir, n)
    made = time.perf_counter() - t0
    conv = convert(files, ipc_dir)
    mb_json = sum(f.stat().st_size for f in files) / 1e6
    mb_ipc = sum(p.stat().st_size for p in ipc_dir.glob("*.arrows")) / 1e6
    print(f"\n{n:,} records: JSONL {mb_json:,.0f} MB (made in {made:.0f} s), mirrors {mb_ipc:,.0f} MB "
          f"(log convert: {conv:.1f} s); best of {repeats} fresh processes each, alternated")
    # alternated, one fresh process at a time, best of each kept: this VM's speed drifts by tens
    # of percent over minutes, and two blocks of runs would carry the drift into the ratio
    best: dict[str, dict[str, Any]] = {}
    for _ in range(repeats):
        for path, where, shards in (("jsonl", jsonl_dir, files),
                                    ("ipc", ipc_dir, [ipc_dir / f.name for f in files])):
            got = measure("analyze", where, shards, 1)
            if path not in best or got["seconds"] < best[path]["seconds"]:
                best[path] = got
    got_json, got_ipc = best["jsonl"], best["ipc"]
    report("JSONL path: load + full analysis", got_json, n)
    report("columnar path: load + full analysis", got_ipc, n)
    print(f"columnar speed-up: wall {got_json['seconds'] / got_ipc['seconds']:.1f}x, CPU "
          f"{got_json['cpu_seconds'] / got_ipc['cpu_seconds']:.1f}x, peak RSS "
          f"{got_ipc['peak_rss_mb'] / got_json['peak_rss_mb']:.2f}x of JSONL's")
    for f in [*jsonl_dir.iterdir(), *ipc_dir.iterdir()]:
        f.unlink()  # free the disk before the next size
    return {"jsonl": got_json, "columnar": got_ipc}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="records of the default size (1000000)")
    ap.add_argument("--big", action="store_true", help="also 10,000,000 records (takes minutes)")
    ap.add_argument("--repeats", type=int, default=2, help="timed repetitions (fresh processes), best kept")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-columnar-") as tmp:
        one_size(args.n, args.repeats, Path(tmp))
        if args.big:
            one_size(10_000_000, 1, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
