#!/usr/bin/python3
"""Makes the expanded-tensor fixtures of Fisher.Data.Tests with real PyTorch (Debian's python3-torch).

Run from this folder:  /usr/bin/python3 make_expanded.py   (reads tiny.pt; the outputs are committed)
- tiny_expanded.pt: tiny.pt with 0.bias an expanded (stride-0) view of one element, 0.25 (torch.save keeps the view).
- tiny_expanded_huge.pt: tiny.pt with 0.bias expanded to 2^20 x 2^20 (2^40 elements, 8 TB as float64) over one element.
"""
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
state = torch.load(os.path.join(HERE, "tiny.pt"))
bias = state["0.bias"]

expanded = dict(state)
expanded["0.bias"] = torch.full((1,), 0.25, dtype=bias.dtype).expand(bias.shape[0])
assert expanded["0.bias"].stride() == (0,)
torch.save(expanded, os.path.join(HERE, "tiny_expanded.pt"))

huge = dict(state)
huge["0.bias"] = torch.full((1,), 0.25, dtype=bias.dtype).expand(1 << 20, 1 << 20)
torch.save(huge, os.path.join(HERE, "tiny_expanded_huge.pt"))
