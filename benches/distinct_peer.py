"""`aggmetrics stats --distinct` against DuckDB's approx_count_distinct and
exact count(DISTINCT) on the access log of benches/stats_peer.sh: the
distinct request ids (one per record, so every group is past the exact
limit) and user agents (a few) per route. Prints medians and each tool's
figures; run with the venv stats_peer.sh makes:

  target/bench-venv/bin/python benches/distinct_peer.py bench-data/access-1600000.jsonl
"""
import json, statistics, subprocess, sys, time

import duckdb

data = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
agg = ['target/release/aggmetrics', 'stats', data, '--by', 'route', '--distinct', 'request_id',
       '--distinct', 'user_agent', '-f', 'json', '-q']
cols = "{'route': 'VARCHAR', 'request_id': 'VARCHAR', 'user_agent': 'VARCHAR'}"
src = f"read_ndjson('{data}', columns={cols})"
approx = f"SELECT route, approx_count_distinct(request_id), approx_count_distinct(user_agent) FROM {src} GROUP BY ALL"
exact = f"SELECT route, count(DISTINCT request_id), count(DISTINCT user_agent) FROM {src} GROUP BY ALL"
times = {'aggmetrics': [], 'duckdb approx': [], 'duckdb exact': []}
out = {}
for _ in range(runs):
    t = time.perf_counter()
    r = subprocess.run(agg, capture_output=True, check=True)
    times['aggmetrics'].append(time.perf_counter() - t)
    out['aggmetrics'] = {g['key']['route']: (g['distinct']['request_id']['count'], g['distinct']['user_agent']['count'])
                         for g in json.loads(r.stdout)['groups']}
    for name, q in [('duckdb approx', approx), ('duckdb exact', exact)]:
        con = duckdb.connect()
        t = time.perf_counter()
        rows = con.execute(q).fetchall()
        times[name].append(time.perf_counter() - t)
        out[name] = {r[0]: (r[1], r[2]) for r in rows}
for name, ts in times.items():
    print(f"{name}: median {statistics.median(ts):.3f} s ({', '.join(f'{x:.3f}' for x in ts)})")
worst = max(abs(out['aggmetrics'][k][0] / out['duckdb exact'][k][0] - 1) for k in out['duckdb exact'])
worst_d = max(abs(out['duckdb approx'][k][0] / out['duckdb exact'][k][0] - 1) for k in out['duckdb exact'])
same_ua = all(out['aggmetrics'][k][1] == out['duckdb exact'][k][1] for k in out['duckdb exact'])
print(f"request_id per route: worst relative error aggmetrics {worst:.4f}, duckdb approx {worst_d:.4f}")
print(f"user_agent per route exact in aggmetrics: {same_ua}")
