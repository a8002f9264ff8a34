import { describe, expect, it } from 'vitest';
import { NonFiniteError, type Tensor, nn, noGrad, tensor } from '../src/index.js';

describe('finite checks', () => {
  class Net extends nn.Module {
    fc1 = new nn.Linear(3, 4);
    act = new nn.ReLU();
    fc2 = new nn.Linear(4, 2);
    forward(x: Tensor): Tensor {
      return this.fc2.call(this.act.call(this.fc1.call(x)));
    }
  }

  it('names the first module that sees a NaN, with the shape and the element', () => {
    const net = new Net();
    const off = nn.enableFiniteChecks(net);
    const x = tensor([
      [1, 2, 3],
      [4, Number.NaN, 6],
    ]);
    expect(() => net.call(x)).toThrow(NonFiniteError);
    expect(() => net.call(x)).toThrow('model (Net): input 0 of shape [2, 3] contains NaN or Inf (element 4 is NaN)');
    off();
    expect(() => net.call(x)).not.toThrow();
  });

  it('reports the layer whose output overflows', () => {
    const net = new Net();
    nn.enableFiniteChecks(net);
    noGrad(() => net.fc1.weight.fill_(3e38));
    expect(() => net.call(tensor([[1, 1, 1]]))).toThrow(/fc1 \(Linear\): produced a non-finite output of shape \[1, 4\] from finite inputs/);
  });
});
