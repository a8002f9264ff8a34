#!/usr/bin/python3
"""PyTorch reference for `keel experiment pascanu2013`: gradient clipping on the addition problem.

Run from the repository root with Debian's Python, which has torch 1.13 (the `python3` first on
PATH may not):

    /usr/bin/python3 tools/reference/pascanu2013_torch.py [--seeds 0 1 2] [--steps 4000]

Pascanu, Mikolov & Bengio (2013), "On the difficulty of training recurrent neural networks": an
Elman RNN on a long-range task with momentum SGD trains only when the gradient norm is clipped;
without clipping, rare huge gradients (the "steep walls" of the loss) throw the weights away.

Setup, the same as src/cli/experiments/pascanu2013.ts (the data differ, since each draws its own
random numbers):

* Addition problem (Hochreiter & Schmidhuber 1997), T = 50 steps of 2 features: a value
  U(0, 1) and a marker that is 1 at exactly two positions, one drawn uniformly from the first half
  [0, T/2) and one from the second half [T/2, T) (the convention of Le et al. 2015 and Arjovsky
  et al. 2016), 0 elsewhere. Target: the sum of the two marked values (predicting its mean, 1,
  gives MSE 2/12 = 0.167).
* nn.RNN(2, 100, nonlinearity='tanh', batch_first=True) with PyTorch's default U(+-1/sqrt(100))
  for every parameter, then W_hh = orthogonal_; a Linear(100, 1) read-out of the last hidden state.
* MSE loss, batch 32 (fresh batches every step), SGD lr 0.01 momentum 0.9, 4,000 steps;
  clip_grad_norm_(params, 1.0) between backward and step, or no clipping.
* Test MSE on 1,000 held-out sequences after training. The gradient norm (before clipping) is
  recorded every step; its maximum and 99th percentile are printed.

One thread, so the output is deterministic. Prints one line per seed and run; the numbers for
seeds 0-5 are quoted in the file comment of src/cli/experiments/pascanu2013.ts (about 90 s per
seed on one core).
"""
import argparse
import math

import torch
from torch import nn

T = 50
HIDDEN = 100
BATCH = 32
LR = 0.01
MOMENTUM = 0.9
CLIP = 1.0
TEST = 1000


def addition_batch(n, g):
    """n sequences [n, T, 2] and their targets [n, 1]."""
    values = torch.rand(n, T, generator=g)
    first = torch.randint(0, T // 2, (n,), generator=g)
    second = torch.randint(T // 2, T, (n,), generator=g)
    marker = torch.zeros(n, T)
    rows = torch.arange(n)
    marker[rows, first] = 1.0
    marker[rows, second] = 1.0
    x = torch.stack([values, marker], dim=2)
    y = (values * marker).sum(dim=1, keepdim=True)
    return x, y


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(2, HIDDEN, nonlinearity='tanh', batch_first=True)
        nn.init.orthogonal_(self.rnn.weight_hh_l0)
        self.out = nn.Linear(HIDDEN, 1)

    def forward(self, x):
        _, h = self.rnn(x)
        return self.out(h[0])


def run(seed, clip, steps):
    torch.manual_seed(seed)
    model = Model()
    data = torch.Generator().manual_seed(seed + 1000)
    test_x, test_y = addition_batch(TEST, torch.Generator().manual_seed(seed + 2000))
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    norms = []
    losses = []
    for _ in range(steps):
        x, y = addition_batch(BATCH, data)
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        if clip:
            norm = nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        else:
            norm = nn.utils.clip_grad_norm_(model.parameters(), math.inf)
        opt.step()
        norms.append(float(norm))
        losses.append(float(loss))
    with torch.no_grad():
        test = float(nn.functional.mse_loss(model(test_x), test_y))
    norms_sorted = sorted(n if math.isfinite(n) else math.inf for n in norms)
    p99 = norms_sorted[min(len(norms_sorted) - 1, int(0.99 * len(norms_sorted)))]
    return test, max(norms_sorted), p99, sum(losses[-100:]) / 100


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--steps', type=int, default=4000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f'torch {torch.__version__}; addition problem T={T}, hidden {HIDDEN}, batch {BATCH}, SGD lr {LR} momentum {MOMENTUM}, {args.steps} steps')
    print('seed  run        test MSE  train MSE (last 100)  max grad norm  p99 grad norm')
    for seed in args.seeds:
        for clip in (True, False):
            test, top, p99, train = run(seed, clip, args.steps)
            name = 'clip 1.0' if clip else 'no clip'
            print(f'{seed:4d}  {name:9s}  {test:8.4f}  {train:20.4f}  {top:13.4g}  {p99:13.4g}', flush=True)


if __name__ == '__main__':
    main()
