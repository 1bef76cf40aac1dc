"""Checks that a result's fisher.safetensors maps onto samples/fashion-cnn/model.pt's state_dict.

usage: cnn_sample_check.py <fisher.safetensors> <model.pt>

Every tensor '<param>.<quantity>' must name a state_dict key <param> and have its shape; every parameter (not
BatchNorm's running statistics) must have an 'i1' entry. Uses safetensors.torch.load_file when the package is
installed, else the hand-written reader of roundtrip.py (Debian 12 has no python3-safetensors). Prints 'ok <count>'.
"""
import sys

import torch

try:
    from safetensors.torch import load_file
except ImportError:
    from roundtrip import read_safetensors as load_file

result, model = sys.argv[1], sys.argv[2]
tensors = load_file(result)
state = torch.load(model)
problems = []
for name, tensor in tensors.items():
    param, _, quantity = name.rpartition(".")
    if param not in state:
        problems.append(f"{name}: no state_dict key {param}")
    elif tuple(state[param].shape) != tuple(tensor.shape):
        problems.append(f"{name}: shape {tuple(tensor.shape)}, state_dict {tuple(state[param].shape)}")
buffers = ("running_mean", "running_var", "num_batches_tracked")
for key in state:
    if not key.endswith(buffers) and f"{key}.i1" not in tensors:
        problems.append(f"no {key}.i1")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"ok {len(tensors)}")
