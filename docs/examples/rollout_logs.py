#!/usr/bin/env python3
"""Deterministic partial-trust risk logs for the examples in docs/rollout.md.

    python3 docs/examples/rollout_logs.py OUT_DIR STAGE DAYS [ERROR_SHARE] [ACCEPT_SHARE]

Writes OUT_DIR/partial_trust_risk.jsonl: DAYS days from 2026-02-10, one
corridor call every 90 s, sampled at the stage's rate (1: 0.01, 2: 0.05,
3: 0.10) but at least 1 in 12 so the example has enough samples.
"""
import json, os, random, sys
from datetime import datetime, timedelta, timezone

out, stage, days = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
err = float(sys.argv[4]) if len(sys.argv) > 4 else 0.01
acc = float(sys.argv[5]) if len(sys.argv) > 5 else 0.8
rate = {1: 0.01, 2: 0.05, 3: 0.10}[stage]
rnd = random.Random(stage * 1000 + days)
t0 = datetime(2026, 2, 10, tzinfo=timezone.utc)
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, 'partial_trust_risk.jsonl'), 'w') as f:
    for i in range(days * 86400 // 90):
        t = t0 + timedelta(seconds=90 * i + rnd.random() * 60)
        sampled = rnd.random() < max(rate, 1 / 12)
        rec = {'timestamp': t.isoformat(), 'trace_id': f't{i}', 'command_id': f'c{i}',
               'corridor_intent': 'add_shopping_item', 'sample_rate': rate, 'sampled': sampled}
        if not sampled:
            rec.update(status='not_sampled', reason_code='not_sampled', latency_ms=None, diff_summary=None)
        elif rnd.random() < err * 12:
            rec.update(status='error', reason_code='RuntimeError', latency_ms=None, diff_summary=None)
        else:
            ok = rnd.random() < acc
            rec.update(status='accepted_llm' if ok else 'fallback_deterministic',
                       reason_code='accepted' if ok else 'low_confidence',
                       latency_ms=int(rnd.lognormvariate(5.3, 0.35)),
                       diff_summary={'intent_mismatch': rnd.random() < 0.03, 'decision_type_mismatch': False,
                                     'action_count_mismatch': rnd.random() < 0.02,
                                     'entity_key_mismatch': rnd.random() < 0.05})
        f.write(json.dumps(rec) + '\n')
