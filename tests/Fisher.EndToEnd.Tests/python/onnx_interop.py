"""ONNX interop fixtures: small networks covering every layer the ONNX importer maps, exported by torch.onnx.export.

usage: onnx_interop.py make DIR float32|float64 [OPSET]  (OPSET 0 or absent: torch's default, 14 in 1.13)
Writes, per model NAME: NAME.onnx, NAME.inputs.npy, NAME.logits.npy, NAME.keys.txt (state_dict key and shape of every
parameter, in state_dict order) and NAME.grads.npy: the per-sample gradients of every logit with respect to every
parameter, (batch, outputs, parameters) in state_dict order, by autograd one sample at a time. With float32 and the
default opset, also cnn.eval.onnx (torch.onnx.export's default options) and cnn.training.onnx (TrainingMode.TRAINING).

The export recipe (docs in src/Fisher.Data/README.md): model.eval(), training=TrainingMode.PRESERVE (BatchNorm stays a
node, not folded into the convolution before it) and do_constant_folding=False (initializers keep their state_dict
names), a dynamic batch dimension.
"""
import copy
import sys
import numpy as np
import torch
import torch.nn as nn


class Block(nn.Module):
    """A residual basic block with a 1x1 projection: conv (no bias) - BN - SiLU - grouped conv - BN, + proj, ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.act = nn.SiLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, groups=2)
        self.bn2 = nn.BatchNorm2d(cout)
        self.proj = nn.Conv2d(cin, cout, 1, stride=stride)

    def forward(self, x):
        y = self.act(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.proj(x))


class Cnn(nn.Module):
    """Conv2d, BatchNorm2d/1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, view-flatten, Linear and every activation."""

    shape = (2, 12, 12)

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2, stride=2, padding=1),
            nn.Conv2d(4, 4, 3, padding=2, dilation=2), nn.Tanh(),
            nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False), nn.LeakyReLU(0.2), nn.Dropout(0.5))
        self.block = Block(4, 6, 2)
        self.pool = nn.AdaptiveAvgPool2d((2, 2))
        self.fc1 = nn.Linear(24, 8)
        self.bn = nn.BatchNorm1d(8)
        self.head = nn.Sequential(nn.ELU(0.7), nn.GELU(), nn.Softplus(), nn.Sigmoid(), nn.Linear(8, 3), nn.Identity())

    def forward(self, x):
        x = self.pool(self.block(self.features(x)))
        x = x.view(x.size(0), -1)
        return self.head(self.bn(self.fc1(x)))


class Conv1dNet(nn.Module):
    """Conv1d (strided, padded, dilated, grouped), BatchNorm1d, nn.Flatten and a Linear without bias."""

    shape = (2, 16)
    # BatchNorm at its defaults (weight = running_var = 1, bias = running_mean = 0): the exporter keeps one of each twin
    # initializer and names the other by an Identity node, which the importer must follow.
    default_batchnorm = True

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 4, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm1d(4)
        self.conv2 = nn.Conv1d(4, 4, 3, padding=2, dilation=2, groups=2)
        self.flat = nn.Flatten()
        self.out = nn.Linear(32, 3, bias=False)

    def forward(self, x):
        return self.out(self.flat(torch.tanh(self.conv2(torch.relu(self.bn(self.conv(x)))))))


class GapNet(nn.Module):
    """Global average pooling (AdaptiveAvgPool2d(1)) and torch.flatten."""

    shape = (3, 6, 6)

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 5, 3, stride=2, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(5, 4)

    def forward(self, x):
        return self.fc(torch.flatten(self.gap(torch.nn.functional.gelu(self.conv(x))), 1))


class Mlp(nn.Sequential):
    """A plain MLP as nn.Sequential: the importer's graph is served by the fused MLP path."""

    shape = (6,)

    def __init__(self):
        super().__init__(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))


MODELS = {"cnn": Cnn, "conv1d": Conv1dNet, "gap": GapNet, "mlp": Mlp}


def randomize_batchnorm(model, generator):
    """Running statistics and affine parameters away from their defaults, so eval-mode BatchNorm is not a no-op."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=generator) * 0.3)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=generator) + 0.5)
                m.weight.copy_(torch.randn(m.weight.shape, generator=generator) * 0.5 + 1)
                m.bias.copy_(torch.randn(m.bias.shape, generator=generator) * 0.2)


def per_sample_gradients(model, x):
    """d logit_c(x_n) / d theta for every sample n and output c, one sample at a time: (batch, outputs, parameters)."""
    params = [p for _, p in model.named_parameters()]
    rows = []
    for n in range(x.shape[0]):
        out = model(x[n:n + 1])[0]
        per_output = []
        for c in range(out.shape[0]):
            grads = torch.autograd.grad(out[c], params, retain_graph=True)
            per_output.append(torch.cat([g.reshape(-1) for g in grads]))
        rows.append(torch.stack(per_output))
    return torch.stack(rows)


def make(folder, dtype_name, opset):
    dtype = {"float32": torch.float32, "float64": torch.float64}[dtype_name]
    generator = torch.Generator().manual_seed(14)
    for name, cls in MODELS.items():
        torch.manual_seed(14)
        model = cls()
        if not getattr(cls, "default_batchnorm", False):
            randomize_batchnorm(model, generator)
        model = model.to(dtype).eval()
        x = torch.randn((5, *cls.shape), generator=generator).to(dtype)
        torch.onnx.export(model, x, f"{folder}/{name}.onnx", input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
                          **({"opset_version": opset} if opset else {}))
        with torch.no_grad():
            logits = model(x)
        np.save(f"{folder}/{name}.inputs.npy", x.numpy())
        np.save(f"{folder}/{name}.logits.npy", logits.numpy())
        np.save(f"{folder}/{name}.grads.npy", per_sample_gradients(model, x).detach().numpy())
        if name == "cnn" and dtype == torch.float32 and not opset:
            for mode in ("eval", "training"):
                options = {"training": torch.onnx.TrainingMode.TRAINING} if mode == "training" else {}
                torch.onnx.export(copy.deepcopy(model), x, f"{folder}/{name}.{mode}.onnx", input_names=["input"],
                                  output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                                  **options)
        with open(f"{folder}/{name}.keys.txt", "w") as keys:
            for key, p in model.named_parameters():
                keys.write(f"{key} {' '.join(str(d) for d in p.shape)}\n")
    print("OK")


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5) or sys.argv[1] != "make":
        sys.exit(__doc__)
    make(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) == 5 else 0)
