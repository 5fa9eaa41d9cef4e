#!/usr/bin/env python3
"""`aggmetrics stats` against DuckDB's best formulation and Miller 6 on one
generic nested JSONL log (examples/gen_access.rs), in alternating runs:

    python3 benches/stats_peer.py --data FILE --bin target/release/aggmetrics --runs 5

The same figures each way: per (route, status) group the record count and
p50/p95/p99, min, max and mean of timing.total_ms and timing.db_ms.
DuckDB: read_ndjson with the columns typed (timing as a STRUCT), one
GROUP BY query, quantile_cont, no temporary table. Miller: `flatten then
stats1 -a count,p50,p95,p99,min,max,mean -g route,status` with `-i`
interpolated percentiles (the same rule). Wall time of each process and
its peak anonymous RSS are reported; the groups' counts are checked equal.

With --filter, each tool first keeps the records with status >= 400
(aggmetrics `--where 'status>=400'`, DuckDB `WHERE status >= 400`, Miller
`filter '$status >= 400'`), and aggmetrics keeps at most 5 groups
(`--max-groups 5`: the heaviest, the rest in `(other)`; DuckDB and Miller
give every group, and the five heaviest are compared).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from peer import run_sampled  # noqa: E402

DUCKDB = """
import duckdb, json, sys, time
t = time.perf_counter()
con = duckdb.connect()
con.execute('SET enable_progress_bar = false')
rows = con.execute('''
SELECT route, status, count(*) AS n,
  quantile_cont(timing.total_ms, [0.5, 0.95, 0.99]) AS total_q, min(timing.total_ms), max(timing.total_ms), avg(timing.total_ms),
  quantile_cont(timing.db_ms, [0.5, 0.95, 0.99]) AS db_q, min(timing.db_ms), max(timing.db_ms), avg(timing.db_ms)
FROM read_ndjson(?, columns={route: 'VARCHAR', status: 'INTEGER', timing: 'STRUCT(total_ms DOUBLE, db_ms DOUBLE)'})
WHERE_CLAUSE
GROUP BY ALL ORDER BY ALL'''.replace('WHERE_CLAUSE', sys.argv[2]), [sys.argv[1]]).fetchall()
print(json.dumps({'query_s': time.perf_counter() - t, 'groups': {f'{r[0]}|{r[1]}': r[2] for r in rows}}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--bin', required=True)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--json')
    ap.add_argument('--filter', action='store_true')
    a = ap.parse_args()
    where = ['--where', 'status>=400', '--max-groups', '5'] if a.filter else []
    size = os.path.getsize(a.data)
    cmds = {
        'aggmetrics': [a.bin, 'stats', a.data, '--value', 'timing.total_ms', '--value', 'timing.db_ms',
                       '--by', 'route', '--by', 'status', '-f', 'json', '-q'] + where,
        'duckdb': [sys.executable, '-c', DUCKDB, a.data, 'WHERE status >= 400' if a.filter else ''],
    }
    mlr = shutil.which('mlr')
    # MILLER=0 leaves Miller out (a run of it takes a minute).
    if mlr and os.environ.get('MILLER') != '0':
        cmds['miller'] = [mlr, '--ijsonl', '--ojson'] + (['filter', '$status >= 400', 'then'] if a.filter else []) + ['flatten', 'then', 'stats1', '-i', '-a',
                          'count,p50,p95,p99,min,max,mean', '-f', 'timing.total_ms,timing.db_ms',
                          '-g', 'route,status', a.data]
    times = {k: [] for k in cmds}
    rss = {k: [] for k in cmds}
    outs = {}
    for i in range(a.runs):
        with open(a.data, 'rb') as f:
            while f.read(1 << 24):
                pass
        order = list(cmds) if i % 2 == 0 else list(reversed(list(cmds)))
        for k in order:
            w, r, out = run_sampled(cmds[k])
            times[k].append(w)
            rss[k].append(r)
            outs[k] = out
        print(f'run {i + 1}: ' + ', '.join(f'{k} {times[k][-1]:.3f} s' for k in cmds), flush=True)
    # The same groups and counts.
    agg = json.loads(outs['aggmetrics'])
    agg_groups = {f"{g['key']['route']}|{g['key']['status']}": g['records'] for g in agg['groups']}
    duck = json.loads(outs['duckdb'].decode().strip().splitlines()[-1])['groups']
    def heaviest(d):
        return dict(sorted(d.items(), key=lambda kv: -kv[1])[:len(agg_groups)])
    if a.filter:
        # The five heaviest, and everything else in (other).
        assert agg_groups == heaviest(duck), (agg_groups, duck)
        assert agg['other']['records'] == sum(duck.values()) - sum(agg_groups.values())
    else:
        assert agg_groups == duck, (agg_groups, duck)
    if 'miller' in outs:
        m = json.loads(outs['miller'])
        mil = {f"{g['route']}|{g['status']}": g['timing.total_ms_count'] for g in m}
        assert agg_groups == (heaviest(mil) if a.filter else mil), (agg_groups, mil)
    res = {'data_bytes': size, 'records': agg['records'], 'runs': a.runs, 'cores': os.cpu_count(),
           'filter': a.filter}
    for k in cmds:
        res[f'{k}_median_s'] = statistics.median(times[k])
        res[f'{k}_peak_rss_anon_mib'] = max(rss[k]) / 1024
    for k in cmds:
        if k != 'aggmetrics':
            res[f'speedup_vs_{k}'] = res[f'{k}_median_s'] / res['aggmetrics_median_s']
    print(json.dumps(res, indent=2))
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(res, f, indent=2)


if __name__ == '__main__':
    main()
