"""One table per setting of the imbalance study: HMCE, BCL and the chosen G-HMLC / A-HMLC variants over the seeds, with
paired differences to HMCE; writes nbs/results/imbalance_<setting>/table.txt and summary.json (read by 14_imbalanced_digits)."""
import json
from pathlib import Path
from hmlc_nb.cli import compare_table
R = Path(__file__).resolve().parent
choice = json.loads((R / 'imbalance_choice.json').read_text())
for s, folder in dict(lt='imbalance_lt', groups='imbalance_groups').items():
    runs = []
    for v in ('base', 'anchor', 'average'):
        for f in sorted((R / folder / v).glob('seed*/*/results.json')):
            r = json.loads(f.read_text())
            name = r['method'] if v == 'base' else f"{r['method']}+{v}"
            if name in ['hmce', 'bcl'] + [m if c == 'base' else f'{m}+{c}' for m, c in choice['chosen'][s].items()]:
                runs.append(dict(r, method=name))
    table = compare_table(runs, 'main') + '\n\nvalidation\n' + compare_table([{**r, **r['val']} for r in runs], 'main')
    (R / folder / 'table.txt').write_text(table + '\n')
    (R / folder / 'summary.json').write_text(json.dumps(dict(setting=s, methods=sorted({r['method'] for r in runs}),
        seeds=sorted({r['seed'] for r in runs}), chosen=choice['chosen'][s], table=table), indent=1))
    print(f'== {s}\n{table}\n')
