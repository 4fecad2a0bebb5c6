#!/usr/bin/python3
"""Writes the learning-rate schedule fixtures in tests/fixtures/sched/ with torch.optim.lr_scheduler.

Run with Debian's Python (torch 1.13): /usr/bin/python3 tools/gen_sched_fixtures.py

Each fixture is a text table: '#' comment lines, one line of column names, then one row per
step. Row 0 holds the values right after the scheduler was built (PyTorch's initial step), row i
the values after i calls of step(). Columns: lr<g> per parameter group, momentum<g> where the
schedule cycles momentum, and metric (the value passed to step(metric) that produced the row)
for ReduceLROnPlateau. The C++ side (tests/sched/cases.h) builds the same schedules.
"""
import math
import os
import warnings

import torch
from torch.optim import lr_scheduler as S

warnings.filterwarnings("ignore")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "sched")

TWO_GROUPS = [0.1, 0.025]
ONE_GROUP = [0.1]


def make_sgd(lrs, momentum=0.9):
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=momentum)


def plateau_metrics(n):
    # A falling loss with plateaus and noise: reproducible, no RNG involved.
    return [1.0 / (1.0 + 0.02 * (t // 25) * 25) + 0.01 * math.sin(1.7 * t) for t in range(n)]


def write(name, columns, rows, comment):
    with open(os.path.join(OUT, name + ".txt"), "w") as f:
        f.write("# " + comment + "\n")
        f.write(" ".join(columns) + "\n")
        for row in rows:
            f.write(" ".join(repr(float(v)) for v in row) + "\n")


def record(name, lrs, build, steps=300, momentum=False, metrics=None):
    opt = make_sgd(lrs)
    sched = build(opt)
    groups = range(len(opt.param_groups))

    def row(metric):
        values = [g["lr"] for g in opt.param_groups]
        if momentum:
            values += [g["momentum"] for g in opt.param_groups]
        if metrics is not None:
            values.append(metric)
        return values

    rows = [row(0.0)]
    for t in range(1, steps + 1):
        if metrics is None:
            sched.step()
            rows.append(row(0.0))
        else:
            sched.step(metrics[t])
            rows.append(row(metrics[t]))
    columns = ["lr%d" % g for g in groups]
    if momentum:
        columns += ["momentum%d" % g for g in groups]
    if metrics is not None:
        columns.append("metric")
    write(name, columns, rows, "%s, torch %s, %d steps" % (type(sched).__name__, torch.__version__,
                                                          steps))


def main():
    os.makedirs(OUT, exist_ok=True)
    record("exponential_lr", TWO_GROUPS, lambda o: S.ExponentialLR(o, gamma=0.98))
    record("step_lr", TWO_GROUPS, lambda o: S.StepLR(o, step_size=30, gamma=0.5))
    record("multistep_lr", ONE_GROUP,
           lambda o: S.MultiStepLR(o, milestones=[50, 120, 120, 200], gamma=0.3))
    record("lambda_lr", TWO_GROUPS, lambda o: S.LambdaLR(o, lambda t: 1.0 / (1.0 + 0.05 * t)))
    record("lambda_lr_per_group", TWO_GROUPS,
           lambda o: S.LambdaLR(o, [lambda t: t // 30, lambda t: 0.95 ** t]))
    record("cosine_annealing_lr", TWO_GROUPS,
           lambda o: S.CosineAnnealingLR(o, T_max=50, eta_min=0.001))
    record("cosine_warm_restarts", TWO_GROUPS,
           lambda o: S.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2, eta_min=1e-4))
    record("cosine_warm_restarts_mult1", ONE_GROUP,
           lambda o: S.CosineAnnealingWarmRestarts(o, T_0=7))
    record("linear_lr", TWO_GROUPS,
           lambda o: S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=40))
    record("linear_lr_decay", ONE_GROUP,
           lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.2, total_iters=150))
    record("cyclic_triangular", TWO_GROUPS,
           lambda o: S.CyclicLR(o, base_lr=[0.01, 0.002], max_lr=[0.1, 0.05], step_size_up=20),
           momentum=True)
    record("cyclic_triangular2", ONE_GROUP,
           lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=15, step_size_down=25,
                                mode="triangular2", cycle_momentum=False))
    record("cyclic_exp_range", TWO_GROUPS,
           lambda o: S.CyclicLR(o, base_lr=0.001, max_lr=0.1, step_size_up=25, mode="exp_range",
                                gamma=0.995, base_momentum=0.85, max_momentum=0.95),
           momentum=True)
    record("onecycle_cos", TWO_GROUPS,
           lambda o: S.OneCycleLR(o, max_lr=[0.1, 0.05], total_steps=300), momentum=True)
    record("onecycle_linear_three_phase", ONE_GROUP,
           lambda o: S.OneCycleLR(o, max_lr=0.2, total_steps=320, pct_start=0.25,
                                  anneal_strategy="linear", div_factor=10.0,
                                  final_div_factor=100.0, three_phase=True),
           steps=320, momentum=True)
    metrics = plateau_metrics(301)
    record("plateau_min_rel", TWO_GROUPS,
           lambda o: S.ReduceLROnPlateau(o, mode="min", factor=0.5, patience=5, threshold=1e-2,
                                         cooldown=3, min_lr=[1e-3, 1e-4]),
           metrics=metrics)
    record("plateau_max_abs", ONE_GROUP,
           lambda o: S.ReduceLROnPlateau(o, mode="max", factor=0.7, patience=3, threshold=0.005,
                                         threshold_mode="abs", min_lr=0.002),
           metrics=[-m for m in metrics])
    record("sequential_warmup_cosine", TWO_GROUPS,
           lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=10),
                                        S.CosineAnnealingLR(o, T_max=100)], milestones=[10]))
    record("sequential_three", ONE_GROUP,
           lambda o: S.SequentialLR(o, [S.ExponentialLR(o, gamma=0.9),
                                        S.CosineAnnealingWarmRestarts(o, T_0=20),
                                        S.MultiStepLR(o, milestones=[30, 60], gamma=0.5)],
                                    milestones=[15, 150]))
    # Children that set the lr and momentum themselves (and OneCycleLR its initial lr) when built.
    record("sequential_cyclic", TWO_GROUPS,
           lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.25, total_iters=8),
                                        S.CyclicLR(o, base_lr=0.001, max_lr=0.01,
                                                   step_size_up=7)], milestones=[8]),
           momentum=True)
    record("sequential_onecycle", TWO_GROUPS,
           lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.5, total_iters=20),
                                        S.OneCycleLR(o, max_lr=0.05, total_steps=250)],
                                    milestones=[50]),
           momentum=True)


if __name__ == "__main__":
    main()
