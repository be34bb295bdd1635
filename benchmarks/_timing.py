"""Timing helpers shared by the benchmark scripts: clocks, device sync, interleaved repeats, a header line.

Every script times its candidates *interleaved* (run 1 of each, then run 2 of each, ...) and reports medians, so a
change of machine load hits all candidates alike. On a CPU shared with other processes, `--clock cpu` (process CPU
time, best with `--threads 1`) does not count the time other processes hold the cores; on a GPU use `wall`.
"""
import datetime, platform, statistics, sys, time
import torch

CLOCKS = {'wall': time.perf_counter, 'cpu': time.process_time}


def resolve_clock(clock, device):
    "'auto' -> 'cpu' on a CPU device (robust to other processes), 'wall' on an accelerator."
    if clock != 'auto': return clock
    return 'cpu' if torch.device(device).type == 'cpu' else 'wall'


def sync(device):
    "Wait for the device's queued work (no-op on CPU)."
    device = torch.device(device)
    if device.type == 'cuda': torch.cuda.synchronize(device)


def time_call(fn, device, backward=False, clock='wall'):
    "Seconds of one call of `fn` (and of `.backward()` on what it returns when `backward`), device work included."
    now = CLOCKS[clock]
    sync(device)
    t0 = now()
    out = fn()
    if backward: out.backward()
    sync(device)
    return now() - t0


def interleaved(fns, repeats, warmup=1, device='cpu', backward=False, clock='wall'):
    "Seconds of each zero-arg callable in `fns` (dict name -> fn), runs interleaved, warm-up runs dropped: {name: [s]}."
    times = {k: [] for k in fns}
    for r in range(warmup + repeats):
        for k, fn in fns.items():
            t = time_call(fn, device, backward, clock)
            if r >= warmup: times[k].append(t)
    return times


def medians(times):
    "{name: median seconds} of `interleaved`'s output."
    return {k: statistics.median(v) for k, v in times.items()}


def device_name(device, threads=None):
    "The device in words: the GPU's name, or the CPU with its torch thread count."
    device = torch.device(device)
    if device.type == 'cuda': return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    return f"cpu ({cpu}), {threads or torch.get_num_threads()} torch thread(s)"


def header(script, device, clock, threads=None, **settings):
    "Print what a RESULTS.md entry needs: script, device, torch version, date, the command line, clock and settings."
    now = datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')
    print(f"# {script}  device: {device_name(device, threads)}  torch {torch.__version__}  {now}")
    print(f"# command: python {' '.join(sys.argv)}")
    extra = '  '.join(f'{k}={v}' for k, v in settings.items())
    print(f"# clock: {clock} ({'process CPU time' if clock == 'cpu' else 'wall time'}), medians of interleaved runs  {extra}",
          flush=True)
