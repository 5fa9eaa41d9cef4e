#!/usr/bin/env python3
"""End-to-end benchmark: `aggmetrics summarize` against DuckDB computing the
same summary over the same logs. Run through benches/peer.sh, which builds
the binary, generates the data and installs duckdb from PyPI.

Method: every file is read once into the page cache right before timing
(this machine evicts idle files within minutes); the two tools alternate
run by run; each figure is the median of --runs runs. aggmetrics' peak
heap is its peak RssAnon (anonymous resident memory; the mapped log pages
are file-backed and not counted there), sampled every 2 ms from
/proc/PID/status. DuckDB runs in a fresh process each time, like the
command-line tool, and its in-process query time is reported too.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time

# Each file is read once into a temp table; every figure comes from those.
# Steps and components are open sets, so they are read as JSON and turned
# into maps with json_transform (the fastest of the forms tried: a MAP column
# in read_json, json_each, json_keys + json_extract).
READ_SQL = r"""
CREATE TEMP TABLE lat AS SELECT timestamp, total_ms, coalesce(llm_enabled, false) AS llm, steps
  FROM read_json('{d}/pipeline_latency*.jsonl', format='newline_delimited', ignore_errors=true,
    columns={{timestamp: 'VARCHAR', total_ms: 'DOUBLE', steps: 'JSON', llm_enabled: 'BOOLEAN'}});
CREATE TEMP TABLE fb AS SELECT * FROM read_json('{d}/fallback_metrics*.jsonl', format='newline_delimited', ignore_errors=true,
    columns={{timestamp: 'VARCHAR', intent: 'VARCHAR', llm_outcome: 'VARCHAR', fallback_reason: 'VARCHAR',
             llm_latency_ms: 'DOUBLE', components: 'JSON'}});
CREATE TEMP TABLE rk AS SELECT * FROM read_json('{d}/partial_trust_risk*.jsonl', format='newline_delimited', ignore_errors=true,
    columns={{timestamp: 'VARCHAR', sampled: 'BOOLEAN', status: 'VARCHAR', reason_code: 'VARCHAR', latency_ms: 'DOUBLE',
             diff_summary: 'STRUCT(intent_mismatch BOOLEAN, entity_key_mismatch BOOLEAN, decision_type_mismatch BOOLEAN, action_count_mismatch BOOLEAN)'}});
"""

CORE_SQL = r"""
SELECT 'latency' AS part, to_json(list(x)) FROM (
  SELECT {{'group': CASE WHEN grouping(llm) = 1 THEN 'all' WHEN llm THEN 'with_llm' ELSE 'without_llm' END,
          'count': count(*), 'p': quantile_cont(total_ms, [0.5, 0.95, 0.99]), 'min': min(total_ms), 'max': max(total_ms), 'mean': avg(total_ms)}} AS x
  FROM lat GROUP BY GROUPING SETS ((llm), ())) UNION ALL
SELECT 'fallback', to_json({{'count': count(*), 'fallback': count(*) FILTER (llm_outcome = 'fallback'),
    'error': count(*) FILTER (llm_outcome = 'error'), 'success': count(*) FILTER (llm_outcome = 'success'),
    'llm_latency': quantile_cont(llm_latency_ms, [0.5, 0.95, 0.99])}}) FROM fb UNION ALL
SELECT 'outcomes', to_json(list(x)) FROM (SELECT {{'intent': intent, 'outcome': coalesce(llm_outcome, 'unknown'), 'n': count(*)}} AS x
    FROM fb GROUP BY GROUPING SETS ((intent, llm_outcome), (llm_outcome))) UNION ALL
SELECT 'reasons', to_json(list(x)) FROM (SELECT {{'reason': fallback_reason, 'n': count(*)}} AS x FROM fb WHERE fallback_reason IS NOT NULL GROUP BY fallback_reason) UNION ALL
SELECT 'risk', to_json({{'total': count(*), 'sampled': count(*) FILTER (sampled),
    'diff': count(diff_summary), 'intent_mm': count(*) FILTER (diff_summary.intent_mismatch),
    'entity_mm': count(*) FILTER (diff_summary.entity_key_mismatch),
    'lat': quantile_disc(latency_ms, [0.5, 0.95, 0.99])}}) FROM rk UNION ALL
SELECT 'status', to_json(list(x)) FROM (SELECT {{'s': coalesce(status, 'unknown'), 'n': count(*)}} AS x FROM rk GROUP BY status) UNION ALL
SELECT 'reason_codes', to_json(list(x)) FROM (SELECT {{'r': reason_code, 'n': count(*)}} AS x FROM rk WHERE reason_code <> '' GROUP BY reason_code) UNION ALL
SELECT 'time_range', to_json({{'first': min(t), 'last': max(t)}}) FROM (
    SELECT timestamp AS t FROM lat UNION ALL SELECT timestamp FROM fb UNION ALL SELECT timestamp FROM rk)
"""

OPEN_SETS_SQL = r"""
UNION ALL SELECT 'steps', to_json(list(x)) FROM (
  SELECT {{'group': CASE WHEN grouping(llm) = 1 THEN 'all' WHEN llm THEN 'with_llm' ELSE 'without_llm' END, 'step': e.key,
          'p': quantile_cont(e.value, [0.5, 0.95, 0.99])}} AS x
  FROM (SELECT llm, unnest(map_entries(json_transform(steps, '"MAP(VARCHAR, DOUBLE)"'))) AS e FROM lat)
  GROUP BY GROUPING SETS ((llm, e.key), (e.key))) UNION ALL
SELECT 'components', to_json(list(x)) FROM (SELECT {{'c': e.key, 's': e.value, 'n': count(*)}} AS x
    FROM (SELECT unnest(map_entries(json_transform(components, '"MAP(VARCHAR, VARCHAR)"'))) AS e FROM fb) GROUP BY e.key, e.value)
"""

# The same summary aggmetrics computes.
DUCKDB_SQL = READ_SQL + CORE_SQL + OPEN_SETS_SQL + ";\n"
# Without per-step and per-component figures: DuckDB's floor on these files,
# for the conservative ratio.
DUCKDB_REDUCED_SQL = (READ_SQL.replace("steps: 'JSON', ", "").replace(", steps\n", "\n")
                      .replace(", components: 'JSON'", "") + CORE_SQL + ";\n")

DUCKDB_RUNNER = r"""
import duckdb, sys, time, json
t = time.perf_counter()
con = duckdb.connect()
con.execute('SET enable_progress_bar = false')
stmts = [s for s in sys.argv[1].split(';\n') if s.strip()]
for s in stmts[:-1]:
    con.execute(s)
rows = con.execute(stmts[-1]).fetchall()
sys.stdout.write('\n' + json.dumps({'query_s': time.perf_counter() - t, 'rows': len(rows)}))
"""


# The strongest DuckDB formulation found: read_json_auto infers `steps` and
# `components` as STRUCTs from a sample of records (0.74 s to read the
# latency log, against 3.0 s as a MAP), and the per-step and per-component
# SQL is generated from the inferred schema, so no name is hard-coded. It
# covers the step names present in DuckDB's sample; a name that first
# appears later is not seen (aggmetrics' open set has no such limit).
AUTO_RUNNER = r"""
import duckdb, sys, time, json
d = sys.argv[1]
t = time.perf_counter()
con = duckdb.connect()
con.execute('SET enable_progress_bar = false')
con.execute(f"CREATE TEMP TABLE lat AS SELECT timestamp, total_ms, coalesce(llm_enabled, false) AS llm, steps FROM read_json_auto('{d}/pipeline_latency*.jsonl', ignore_errors=true)")
con.execute(f"CREATE TEMP TABLE fb AS SELECT timestamp, intent, llm_outcome, fallback_reason, llm_latency_ms, components FROM read_json_auto('{d}/fallback_metrics*.jsonl', ignore_errors=true)")
con.execute(f"CREATE TEMP TABLE rk AS SELECT timestamp, sampled, status, reason_code, latency_ms, diff_summary FROM read_json_auto('{d}/partial_trust_risk*.jsonl', ignore_errors=true)")
def fields(table, col):
    ty = dict((r[0], r[1]) for r in con.execute(f"DESCRIBE {table}").fetchall())[col]
    inner = ty[ty.index('(') + 1:ty.rindex(')')]
    return [f.strip().split(' ')[0].strip('"') for f in inner.split(',')]
steps = fields('lat', 'steps')
comps = fields('fb', 'components')
step_rows = ' UNION ALL '.join(f"SELECT llm, '{s}' AS k, steps.\"{s}\" AS v FROM lat WHERE steps.\"{s}\" IS NOT NULL" for s in steps)
comp_rows = ' UNION ALL '.join(f"SELECT '{c}' AS k, components.\"{c}\" AS v FROM fb WHERE components.\"{c}\" IS NOT NULL" for c in comps)
extra = (
    " UNION ALL SELECT 'steps', to_json(list(x)) FROM ("
    " SELECT {'group': CASE WHEN grouping(llm) = 1 THEN 'all' WHEN llm THEN 'with_llm' ELSE 'without_llm' END, 'step': k,"
    " 'p': quantile_cont(v, [0.5, 0.95, 0.99])} AS x FROM (" + step_rows + ") GROUP BY GROUPING SETS ((llm, k), (k)))"
    " UNION ALL SELECT 'components', to_json(list(x)) FROM (SELECT {'c': k, 's': v, 'n': count(*)} AS x FROM ("
    + comp_rows + ") GROUP BY k, v)"
)
rows = con.execute(CORE_SQL + extra).fetchall()
sys.stdout.write('\n' + json.dumps({'query_s': time.perf_counter() - t, 'rows': len(rows), 'steps': steps}))
"""


# DuckDB's strongest formulation (issue 15): read_ndjson with the needed
# columns typed explicitly (`steps` and `components` as STRUCTs of the
# known names), no temporary table, one aggregate query per log; per-step
# percentiles come from the same GROUP BY as the totals. Like the inferred
# form it sees only the step names written into it; aggmetrics' open set
# has no such limit (the open-maps form above is the like-for-like there).
STEPS = ['validate_command_ms', 'detect_intent_ms', 'registry_ms', 'core_logic_ms',
         'validate_decision_ms', 'rerank_ms']
COMPONENTS = ['llm_client', 'validator', 'registry']
COMPONENT_STATES = ['ok', 'error', 'skipped']
TYPED_SQL = (
    "SELECT CASE WHEN grouping(llm_enabled) = 1 THEN 'all' WHEN llm_enabled THEN 'with_llm' ELSE 'without_llm' END AS g, "
    "count(*), quantile_cont(total_ms, [0.5, 0.95, 0.99]), min(total_ms), max(total_ms), avg(total_ms), "
    + ', '.join(f"quantile_cont(steps.{n}, [0.5, 0.95, 0.99])" for n in STEPS)
    + ", min(timestamp), max(timestamp) "
    "FROM read_ndjson('{d}/pipeline_latency*.jsonl', ignore_errors=true, columns={{timestamp: 'VARCHAR', total_ms: 'DOUBLE', "
    "llm_enabled: 'BOOLEAN', steps: 'STRUCT(" + ', '.join(f'{n} DOUBLE' for n in STEPS) + ")'}}) "
    "GROUP BY GROUPING SETS ((llm_enabled), ());\n"
    "SELECT intent, llm_outcome, fallback_reason, count(*), quantile_cont(llm_latency_ms, [0.5, 0.95, 0.99]), "
    + ', '.join(f"count(*) FILTER (components.{c} = '{st}')" for c in COMPONENTS for st in COMPONENT_STATES)
    + ", min(timestamp), max(timestamp) "
    "FROM read_ndjson('{d}/fallback_metrics*.jsonl', ignore_errors=true, columns={{timestamp: 'VARCHAR', intent: 'VARCHAR', "
    "llm_outcome: 'VARCHAR', fallback_reason: 'VARCHAR', llm_latency_ms: 'DOUBLE', components: 'STRUCT("
    + ', '.join(f'{c} VARCHAR' for c in COMPONENTS) + ")'}}) "
    "GROUP BY GROUPING SETS ((intent, llm_outcome), (llm_outcome), (fallback_reason), ());\n"
    "SELECT status, reason_code, count(*), count(*) FILTER (sampled), count(diff_summary), "
    "count(*) FILTER (diff_summary.intent_mismatch), count(*) FILTER (diff_summary.entity_key_mismatch), "
    "quantile_disc(latency_ms, [0.5, 0.95, 0.99]), min(timestamp), max(timestamp) "
    "FROM read_ndjson('{d}/partial_trust_risk*.jsonl', ignore_errors=true, columns={{timestamp: 'VARCHAR', sampled: 'BOOLEAN', "
    "status: 'VARCHAR', reason_code: 'VARCHAR', latency_ms: 'DOUBLE', diff_summary: 'STRUCT(intent_mismatch BOOLEAN, "
    "entity_key_mismatch BOOLEAN, decision_type_mismatch BOOLEAN, action_count_mismatch BOOLEAN)'}}) "
    "GROUP BY GROUPING SETS ((status), (reason_code), ());\n"
)

TYPED_RUNNER = r"""
import duckdb, sys, time, json
t = time.perf_counter()
con = duckdb.connect()
con.execute('SET enable_progress_bar = false')
rows = 0
for s in [s for s in sys.argv[1].split(';\n') if s.strip()]:
    rows += len(con.execute(s).fetchall())
sys.stdout.write('\n' + json.dumps({'query_s': time.perf_counter() - t, 'rows': rows}))
"""


def warm(data):
    for name in sorted(os.listdir(data)):
        with open(os.path.join(data, name), 'rb') as f:
            while f.read(1 << 24):
                pass


def run_sampled(cmd):
    """Run cmd; return (wall seconds, peak RssAnon in KiB, stdout)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0]

    def sample():
        path = f'/proc/{p.pid}/status'
        while p.poll() is None:
            try:
                with open(path) as f:
                    for line in f:
                        if line.startswith('RssAnon:'):
                            peak[0] = max(peak[0], int(line.split()[1]))
            except OSError:
                break
            time.sleep(0.002)

    th = threading.Thread(target=sample)
    th.start()
    out, err = p.communicate()
    wall = time.perf_counter() - t
    th.join()
    if p.returncode not in (0,):
        sys.exit(f'{cmd[0]} failed ({p.returncode}): {err.decode(errors="replace")[:500]}')
    return wall, peak[0], out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--bin', required=True)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--small', help='a smaller data set, to show heap does not grow with input')
    ap.add_argument('--json', help='write the figures here')
    a = ap.parse_args()

    size = sum(os.path.getsize(os.path.join(a.data, n)) for n in os.listdir(a.data))
    agg_cmd = [a.bin, 'summarize', a.data, '--format', 'json', '-q']
    duck_cmd = [sys.executable, '-c', DUCKDB_RUNNER, DUCKDB_SQL.format(d=a.data)]
    reduced_cmd = [sys.executable, '-c', DUCKDB_RUNNER, DUCKDB_REDUCED_SQL.format(d=a.data)]
    auto_cmd = [sys.executable, '-c', 'CORE_SQL = ' + repr(CORE_SQL.replace('{{', '{').replace('}}', '}')) + '\n' + AUTO_RUNNER, a.data]
    typed_cmd = [sys.executable, '-c', TYPED_RUNNER, TYPED_SQL.format(d=a.data)]

    agg_t, agg_rss, duck_t, duck_q, duck_rss, red_t, auto_t, auto_q = [], [], [], [], [], [], [], []
    typed_t, typed_q = [], []
    for i in range(a.runs):
        warm(a.data)
        # Alternate which tool goes first.
        order = ['agg', 'typed', 'auto', 'duck', 'reduced'] if i % 2 == 0 else ['reduced', 'duck', 'auto', 'typed', 'agg']
        for tool in order:
            if tool == 'typed':
                w, _, out = run_sampled(typed_cmd)
                typed_t.append(w)
                typed_q.append(json.loads(out.decode().strip().splitlines()[-1])['query_s'])
            elif tool == 'auto':
                w, _, out = run_sampled(auto_cmd)
                auto_t.append(w)
                auto_q.append(json.loads(out.decode().strip().splitlines()[-1])['query_s'])
            elif tool == 'agg':
                w, rss, _ = run_sampled(agg_cmd)
                agg_t.append(w)
                agg_rss.append(rss)
            elif tool == 'duck':
                w, rss, out = run_sampled(duck_cmd)
                duck_t.append(w)
                duck_q.append(json.loads(out.decode().strip().splitlines()[-1])['query_s'])
                duck_rss.append(rss)
            else:
                red_t.append(run_sampled(reduced_cmd)[0])
        print(f'run {i + 1}: aggmetrics {agg_t[-1]:.3f} s (RssAnon {agg_rss[-1] / 1024:.1f} MiB), '
              f'duckdb typed columns {typed_t[-1]:.3f} s (query {typed_q[-1]:.3f} s, ratio {typed_t[-1] / agg_t[-1]:.2f}x), '
              f'duckdb inferred structs {auto_t[-1]:.3f} s (query {auto_q[-1]:.3f} s), duckdb open maps {duck_t[-1]:.3f} s (query {duck_q[-1]:.3f} s), '
              f'duckdb without steps/components {red_t[-1]:.3f} s', flush=True)

    res = {
        'data_bytes': size,
        'runs': a.runs,
        'cores': os.cpu_count(),
        'aggmetrics_median_s': statistics.median(agg_t),
        # The strongest formulation first.
        'duckdb_typed_median_s': statistics.median(typed_t),
        'duckdb_typed_query_median_s': statistics.median(typed_q),
        'speedup_vs_duckdb_typed': statistics.median(typed_t) / statistics.median(agg_t),
        'speedup_vs_duckdb_typed_per_run': [round(t / g, 3) for t, g in zip(typed_t, agg_t)],
        'aggmetrics_peak_rss_anon_mib': max(agg_rss) / 1024,
        'duckdb_median_s': statistics.median(duck_t),
        'duckdb_query_median_s': statistics.median(duck_q),
        'duckdb_peak_rss_anon_mib': max(duck_rss) / 1024,
        'duckdb_reduced_median_s': statistics.median(red_t),
        'duckdb_inferred_structs_median_s': statistics.median(auto_t),
        'duckdb_inferred_structs_query_median_s': statistics.median(auto_q),
    }
    res['speedup_vs_duckdb_process'] = res['duckdb_median_s'] / res['aggmetrics_median_s']
    res['speedup_vs_duckdb_query'] = res['duckdb_query_median_s'] / res['aggmetrics_median_s']
    res['speedup_vs_duckdb_reduced'] = res['duckdb_reduced_median_s'] / res['aggmetrics_median_s']
    res['speedup_vs_duckdb_inferred_structs'] = res['duckdb_inferred_structs_median_s'] / res['aggmetrics_median_s']
    res['speedup_vs_duckdb_inferred_structs_query'] = res['duckdb_inferred_structs_query_median_s'] / res['aggmetrics_median_s']
    if a.small:
        warm(a.small)
        rs = [run_sampled([a.bin, 'summarize', a.small, '--format', 'json', '-q'])[1] for _ in range(3)]
        res['small_data_bytes'] = sum(os.path.getsize(os.path.join(a.small, n)) for n in os.listdir(a.small))
        res['aggmetrics_small_peak_rss_anon_mib'] = max(rs) / 1024
    print(json.dumps(res, indent=2))
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(res, f, indent=2)


if __name__ == '__main__':
    main()
