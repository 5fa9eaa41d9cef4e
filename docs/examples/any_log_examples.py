#!/usr/bin/env python3
"""Writes the example logs docs/any-log.md uses (deterministic):

    python3 docs/examples/any_log_examples.py docs/examples

access.jsonl: a web service's access log (route, status, nested timings,
the model that answered, a user agent and free text never to be printed).
assist.jsonl: the platform's assist-mode steps (fields in
../shared/log-schemas.md), with an agent-hint block on some records.
"""
import json
import random
import sys

out = sys.argv[1] if len(sys.argv) > 1 else '.'
rnd = random.Random(12)

with open(f'{out}/access.jsonl', 'w', encoding='utf-8') as f:
    for i in range(400):
        route = rnd.choice(['/api/chat', '/api/chat', '/api/search', '/health'])
        status = rnd.choice([200] * 8 + [404, 500])
        total = round(rnd.lognormvariate(4.2 if route != '/health' else 1.0, 0.5), 3)
        rec = {
            'timestamp': f'2026-02-10T{12 + i // 200:02d}:{(i // 4) % 60:02d}:{(i * 7) % 60:02d}.{i:03d}000+00:00',
            'route': route,
            'status': status,
            'timing': {'total_ms': total, 'db_ms': round(total * rnd.random() / 2, 3), 'render_ms': round(rnd.random() * 3, 3)},
            'model': rnd.choice(['m1', 'm2']) if route == '/api/chat' else None,
            'user_agent': rnd.choice(['curl/8.5', 'Mozilla/5.0']),
            'query': f'private question {i}',
        }
        if i % 53 == 7:
            rec['timing']['total_ms'] = 'timeout'
        f.write(json.dumps(rec, ensure_ascii=False) + '\n')
    f.write('{"timestamp": "2026-02-10T13:59:59+00:00", "route": "/api/ch\n')

with open(f'{out}/assist.jsonl', 'w', encoding='utf-8') as f:
    for i in range(300):
        step = rnd.choice(['normalizer', 'entities', 'clarify'])
        status = rnd.choice(['ok'] * 8 + ['error', 'skipped'])
        rec = {
            'timestamp': f'2026-02-10T12:{i // 5 % 60:02d}:{(i * 13) % 60:02d}+00:00',
            'step': step,
            'status': status,
            'accepted': rnd.choice([True, False, None]) if status == 'ok' else None,
            'error_type': rnd.choice(['timeout', 'invalid_schema']) if status == 'error' else None,
            'latency_ms': None if status == 'skipped' else int(rnd.lognormvariate(5, 0.4)),
            'entities_summary': {'keys': ['item'], 'counts': {'item': 1}} if step == 'entities' else None,
            'missing_fields_count': rnd.randint(0, 2) if step == 'clarify' else None,
            'clarify_used': step == 'clarify' and rnd.random() < 0.4,
            'assist_version': 'assist-0.3',
        }
        if i % 4 == 0:
            rec.update({
                'agent_hint_status': rnd.choice(['ok', 'empty']),
                'agent_hint_latency_ms': int(rnd.lognormvariate(3.5, 0.5)),
                'agent_hint_items_count': rnd.randint(0, 3),
                'agent_hint_applied': rnd.random() < 0.5,
                'agent_hint_selected_agent_id': f'agent-{rnd.randint(1, 3)}',
            })
        f.write(json.dumps(rec, ensure_ascii=False) + '\n')
