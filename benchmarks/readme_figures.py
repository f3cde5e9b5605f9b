"""Check every figure of the README's benchmark table against the JSON record it names.

    python benchmarks/readme_figures.py    # exit 0: every figure matches its record; 1: lists those that do not

Convention: each row of the table under "## Benchmarks" carries, in its figure cell, one HTML comment per record
file (invisible when rendered):

    <!-- record benchmarks/cpu-2core.json: results[backend=torch].p50_ms=10.7 end_to_end.seconds=10 -->

Each `path=shown` pair is one figure: `shown` must appear in the row's visible text exactly as written (commas
for thousands allowed), and the value at `path` in the JSON, rounded (half up) to as many decimals as `shown` has,
must equal it. A path is dot-separated keys; `[3]` picks a list item, `[key=value,key2=value2]` the one list
item with those values. `path*100=50` or `path/60=38` scales the value first (fractions shown as per cent,
seconds as minutes). A row whose figure has no record says so in its text, "no record: from an earlier run", and carries
`<!-- no record -->`. A row with neither is an error.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RECORD = re.compile(r"<!--\s*record\s+(\S+?):\s*(.*?)\s*-->")
NO_RECORD = re.compile(r"<!--\s*no record\s*-->")
PAIR = re.compile(r"^(?P<path>.+?)(?:(?P<op>[*/])(?P<k>[0-9.]+))?=(?P<shown>-?[0-9][0-9,]*(?:\.[0-9]+)?)$")
STEP = re.compile(r"([^.\[\]]+)|\[([^\]]+)\]")


def table_rows(readme: str) -> list[tuple[int, str]]:
    """(line number, line) of the data rows of the first table under '## Benchmarks'."""
    lines = readme.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.strip() == "## Benchmarks"), None)
    if start is None:
        raise ValueError("the README has no '## Benchmarks' section")
    rows, in_table = [], False
    for i in range(start + 1, len(lines)):
        ln = lines[i]
        if ln.startswith("## "):
            break
        if ln.startswith("|"):
            in_table = True
            if not re.match(r"^\|[\s|:-]+\|$", ln) and not ln.startswith("| what |"):
                rows.append((i + 1, ln))
        elif in_table:
            break
    return rows


def lookup(data: Any, path: str) -> Any:
    node = data
    for key, sel in STEP.findall(path):
        if key:
            if not isinstance(node, dict) or key not in node:
                raise KeyError(f"no key {key!r}")
            node = node[key]
        elif "=" in sel:
            want = [c.split("=", 1) for c in sel.split(",")]
            hits = [it for it in node if isinstance(it, dict) and all(str(it.get(k)) == v for k, v in want)]
            if len(hits) != 1:
                raise KeyError(f"[{sel}] matches {len(hits)} items, not one")
            node = hits[0]
        else:
            node = node[int(sel)]
    return node


def check_row(line_no: int, row: str, root: Path = ROOT) -> tuple[list[str], int]:
    """Problems found in one row, and how many figures it checked."""
    visible = NO_RECORD.sub("", RECORD.sub("", row))
    records = RECORD.findall(row)
    if not records:
        if NO_RECORD.search(row) and "no record: from an earlier run" in visible:
            return [], 0
        return [f"line {line_no}: no record comment (and not marked 'no record: from an earlier run')"], 0
    problems, count = [], 0
    for file, pairs in records:
        try:
            data = json.loads((root / file).read_text())
        except (OSError, json.JSONDecodeError) as e:
            problems.append(f"line {line_no}: cannot read {file}: {e}")
            continue
        for pair in pairs.split():
            m = PAIR.match(pair)
            if m is None:
                problems.append(f"line {line_no}: {pair!r} is not path=figure")
                continue
            shown = m["shown"]
            count += 1
            if not re.search(rf"(?<![\d.,]){re.escape(shown)}(?![\d]|[.,]\d)", visible):
                problems.append(f"line {line_no}: {shown} ({m['path']}) is not in the row's text")
            try:
                value = float(lookup(data, m["path"]))
            except (KeyError, IndexError, TypeError, ValueError) as e:
                problems.append(f"line {line_no}: {file}#{m['path']}: {e}")
                continue
            if m["op"]:
                value = value * float(m["k"]) if m["op"] == "*" else value / float(m["k"])
            decimals = len(shown.split(".")[1]) if "." in shown else 0
            rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
            if rounded != Decimal(shown.replace(",", "")):
                problems.append(f"line {line_no}: README says {shown}, {file}#{m['path']} is {value:g}")
    return problems, count


def check(readme: Path, root: Path = ROOT) -> tuple[list[str], int, int]:
    """(problems, rows, figures checked) for a README."""
    rows = table_rows(readme.read_text())
    problems, figures = [], 0
    for line_no, row in rows:
        p, n = check_row(line_no, row, root)
        problems += p
        figures += n
    return problems, len(rows), figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args(argv)
    problems, rows, figures = check(args.readme)
    for p in problems:
        print(p)
    print(f"{rows} rows, {figures} figures checked against their records: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
