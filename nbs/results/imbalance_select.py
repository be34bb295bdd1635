"Choose G-HMLC's and A-HMLC's `balance` per setting on the validation split of seed 0; writes nbs/results/imbalance_choice.json."
import json
from pathlib import Path
R = Path(__file__).resolve().parent   # nbs/results
def score(run):
    "Validation few-shot accuracy averaged over the levels (balanced accuracy for a level without few-shot nodes)."
    sh = run['val']['encoder']['shots']
    return sum(v['few'] if v['few'] is not None else v['balanced'] for v in sh.values()) / len(sh)
out = dict(rule="seed 0, validation split: the balance value with the highest few-shot accuracy averaged over the levels "
                "(a level without few-shot nodes counts its balanced accuracy)", records=[], chosen={})
for s in ('lt', 'groups'):
    out['chosen'][s] = {}
    for m in ('ghmlc', 'ahmlc'):
        best = None
        for v, bal in (('base', 'none'), ('anchor', 'anchor'), ('average', 'average')):
            runs = [r for r in json.load(open(R / f'imbalance_{s}' / v / 'results.json')) if r['method'] == m and r['seed'] == 0]
            sc = score(runs[0])
            out['records'].append(dict(setting=s, method=m, balance=bal, split='validation', seed=0, score=sc,
                                       shots=runs[0]['val']['encoder']['shots']))
            if best is None or sc > best[0]: best = (sc, v)
        out['chosen'][s][m] = best[1]
(R / 'imbalance_choice.json').write_text(json.dumps(out, indent=1))
print(out['chosen'])
