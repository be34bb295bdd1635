"""One table per setting of the imbalance study: HMCE, BCL, the chosen G-HMLC / A-HMLC variants and their controls over the
seeds, with paired differences to HMCE, then each chosen variant against its control; writes
nbs/results/imbalance_<setting>/table.txt and summary.json (read by 14_imbalanced_digits)."""
import json
from pathlib import Path
from hmlc_nb.cli import compare_table
from hmlc_nb.study import CONTROLS
R = Path(__file__).resolve().parent
choice = json.loads((R / 'imbalance_choice.json').read_text())
for s, folder in dict(lt='imbalance_lt', groups='imbalance_groups').items():
    runs = []
    chosen = {(m if c == 'base' else f'{m}+{c}'): (CONTROLS[m] if c == 'base' else f'{CONTROLS[m]}+{c}')
              for m, c in choice['chosen'][s].items()}   # each chosen variant and its control (same balance)
    for d in ('base', 'anchor', 'average', 'control_base', 'control_anchor', 'control_average'):
        v = d.removeprefix('control_')
        for f in sorted((R / folder / d).glob('seed*/*/results.json')):
            r = json.loads(f.read_text())
            name = r['method'] if v == 'base' else f"{r['method']}+{v}"
            if name in ['hmce', 'bcl', *chosen, *chosen.values()]:
                runs.append(dict(r, method=name))
    table = compare_table(runs, 'main') + '\n\nvalidation\n' + compare_table([{**r, **r['val']} for r in runs], 'main')
    for m, c in chosen.items():
        pair = [r for r in runs if r['method'] in (m, c)]
        if {r['method'] for r in pair} == {m, c}:
            table += f'\n\n{m} against its control {c}, test\n' + compare_table(pair, 'main', baseline=c)
    (R / folder / 'table.txt').write_text(table + '\n')
    (R / folder / 'summary.json').write_text(json.dumps(dict(setting=s, methods=sorted({r['method'] for r in runs}),
        seeds=sorted({r['seed'] for r in runs}), chosen=choice['chosen'][s], table=table), indent=1))
    print(f'== {s}\n{table}\n')
