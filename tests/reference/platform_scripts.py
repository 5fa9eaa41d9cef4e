#!/usr/bin/env python3
"""The platform's own report scripts, re-created from ../shared/log-schemas.md,
as the reference that `aggmetrics summarize --exact` must match to the digit.

    python3 tests/reference/platform_scripts.py DIR > expected.json

Latency report: reads pipeline_latency.jsonl and fallback_metrics.jsonl whole;
percentiles by linear interpolation between closest ranks, rounded to 3
decimals; rates rounded to 4. Risk analyzer: partial_trust_risk.jsonl,
lower nearest-rank latency percentiles, malformed lines counted.
Shadow-router analyzer: shadow_router.jsonl joined with shadow_golden.json
(when present), int()-truncated lower-rank latency percentiles. Like the
originals it loads everything into memory; unlike the latency report it
skips lines that are not JSON objects (the original died on them), so the
fixtures it runs on hold no damaged lines.
"""
import json
import math
import os
import sys


def percentile(values, p):
    if not values:
        return 0.0
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    f = math.floor(k)
    c = min(f + 1, len(s) - 1)
    return round(s[f] + (k - f) * (s[c] - s[f]), 3)


def load(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path, encoding='utf-8') as fh:
        for line in fh:
            if line.strip():
                out.append(json.loads(line))
    return out


def group(records):
    steps = {}
    for r in records:
        for k, v in (r.get('steps') or {}).items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                steps.setdefault(k, []).append(v)
    totals = [r['total_ms'] for r in records if isinstance(r.get('total_ms'), (int, float))]
    return {
        'count': len(records),
        'total_ms': {f'p{p}': percentile(totals, p) for p in (50, 95, 99)},
        'steps': {k: {f'p{p}': percentile(v, p) for p in (50, 95, 99)} for k, v in steps.items()},
    }


def latency_report(d):
    lat = load(os.path.join(d, 'pipeline_latency.jsonl'))
    fb = load(os.path.join(d, 'fallback_metrics.jsonl'))
    with_llm = [r for r in lat if r.get('llm_enabled') is True]
    without = [r for r in lat if r.get('llm_enabled') is not True]
    outcomes = {}
    for r in fb:
        o = r.get('llm_outcome') or 'unknown'
        outcomes[o] = outcomes.get(o, 0) + 1
    n = len(fb)
    rate = lambda k: round(outcomes.get(k, 0) / n, 4) if n else 0.0
    stamps = [r['timestamp'] for r in lat + fb if isinstance(r.get('timestamp'), str)]
    return {
        'latency': {'all': group(lat), 'with_llm': group(with_llm), 'without_llm': group(without)},
        'fallback': {'count': n, 'outcome_counts': outcomes, 'fallback_rate': rate('fallback'),
                     'error_rate': rate('error'), 'success_rate': rate('success')},
        'time_range': {'first': min(stamps) if stamps else None, 'last': max(stamps) if stamps else None},
    }


def load_counting_errors(path, errors='strict'):
    """The analyzers' reading: blank lines skipped, a line that is not a
    JSON object counted in parse_errors."""
    records, parse_errors = [], 0
    if os.path.exists(path):
        with open(path, encoding='utf-8', errors=errors) as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    r = json.loads(line)
                except ValueError:
                    parse_errors += 1
                    continue
                if not isinstance(r, dict):
                    parse_errors += 1
                    continue
                records.append(r)
    return records, parse_errors


def risk_report(d):
    records, parse_errors = load_counting_errors(
        os.path.join(d, 'partial_trust_risk.jsonl'), errors='replace')
    status, reasons = {}, {}
    for r in records:
        # The analyzer's rec.get("status", "unknown"): "" stays "", and
        # None is written null by json.dumps.
        s = r.get('status', 'unknown')
        s = 'null' if s is None else s
        status[s] = status.get(s, 0) + 1
        rc = r.get('reason_code')
        if isinstance(rc, str) and rc:
            reasons[rc] = reasons.get(rc, 0) + 1
    acc, fbd = status.get('accepted_llm', 0), status.get('fallback_deterministic', 0)
    diffs = [r['diff_summary'] for r in records if isinstance(r.get('diff_summary'), dict)]
    lat = sorted(r['latency_ms'] for r in records
                 if isinstance(r.get('latency_ms'), (int, float)) and not isinstance(r.get('latency_ms'), bool))
    q = lambda x: lat[int((len(lat) - 1) * x)] if lat else 0.0
    total = len(records)
    return {
        'total_records': total,
        'sampled_records': sum(1 for r in records if r.get('sampled') is True),
        'status_breakdown': status,
        'reason_code_breakdown': reasons,
        'acceptance_rate': acc / (acc + fbd) if acc + fbd else 0.0,
        'intent_mismatch_rate': sum(1 for x in diffs if x.get('intent_mismatch') is True) / len(diffs) if diffs else 0.0,
        'entity_key_mismatch_rate': sum(1 for x in diffs if x.get('entity_key_mismatch') is True) / len(diffs) if diffs else 0.0,
        'error_rate': status.get('error', 0) / total if total else 0.0,
        'latency_p50': q(0.5),
        'latency_p95': q(0.95),
        'parse_errors': parse_errors,
    }


def shadow_report(d):
    """The shadow-router analyzer (`--shadow-log PATH --golden-dataset FILE`)."""
    path = os.path.join(d, 'shadow_router.jsonl')
    golden_path = os.path.join(d, 'shadow_golden.json')
    golden = {}
    if os.path.exists(golden_path):
        with open(golden_path, encoding='utf-8') as fh:
            golden = {e['command_id']: e for e in json.load(fh)}
    records, parse_errors = load_counting_errors(path)
    lat = sorted(int(r['latency_ms']) for r in records
                 if isinstance(r.get('latency_ms'), (int, float)) and not isinstance(r.get('latency_ms'), bool))
    q = lambda x: lat[int((len(lat) - 1) * x)] if lat else None
    errors = {}
    for r in records:
        e = r.get('error_type')
        if isinstance(e, str) and e:
            errors[e] = errors.get(e, 0) + 1

    def keys(r):
        es = r.get('entities_summary')
        return sorted(es.get('keys') or []) if isinstance(es, dict) else []

    matched = [r for r in records if r.get('command_id') in golden]
    intent = sum(1 for r in matched
                 if r.get('suggested_intent') == golden[r['command_id']].get('expected_intent'))
    hits = sum(1 for r in matched
               if keys(r) == sorted(golden[r['command_id']].get('expected_entity_keys') or []))
    return {
        'total_records': len(records),
        'matched_records': len(matched),
        'intent_match_rate': intent / len(matched) if matched else None,
        'entity_hit_rate': hits / len(matched) if matched else None,
        'latency_p50': q(0.5),
        'latency_p95': q(0.95),
        'error_breakdown': errors,
        'parse_errors': parse_errors,
    }


def json_keys(v):
    """Keys as json.dumps writes them (an int 7 is "7", True is "true",
    None is "null"), done before dumping so that sort_keys can order keys
    that were of several types (the scripts counted an integer category
    under its int)."""
    if isinstance(v, dict):
        def key(k):
            if isinstance(k, str):
                return k
            return json.dumps(k)
        return {key(k): json_keys(x) for k, x in v.items()}
    if isinstance(v, list):
        return [json_keys(x) for x in v]
    return v


if __name__ == '__main__':
    d = sys.argv[1]
    out = latency_report(d)
    out['risk'] = risk_report(d)
    out['shadow'] = shadow_report(d)
    json.dump(json_keys(out), sys.stdout, indent=2, sort_keys=True, ensure_ascii=False)
    sys.stdout.write('\n')
