"""How many shapes a JSONL log's lines have, and how often a line has the
shape of the line before it (docs/performance.md, issue 15's ninth round).

A shape is the keys of every object in order, with each value's type
(string, number, bool, null; an array by its length). Lines that are not
JSON are counted apart.

    python3 benches/shapes.py target/callgrind/data-20000/*.jsonl
"""
import collections
import json
import sys


def shape(v):
    if isinstance(v, dict):
        return "{" + ",".join(f"{k}:{shape(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return f"[{len(v)}]"
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "num"
    return "str"


def main(paths):
    print(f"{'log':<28} {'lines':>7} {'bad':>5} {'shapes':>6} {'same as before':>14}")
    for path in paths:
        shapes = collections.Counter()
        prev, same, n, bad = None, 0, 0, 0
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    s = shape(json.loads(line))
                except ValueError:
                    bad += 1
                    prev = None
                    continue
                shapes[s] += 1
                n += 1
                same += s == prev
                prev = s
        name = path.rsplit("/", 1)[-1]
        print(f"{name:<28} {n:>7} {bad:>5} {len(shapes):>6} {same / max(n, 1):>13.0%}")


if __name__ == "__main__":
    main(sys.argv[1:])
