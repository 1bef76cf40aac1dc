#!/usr/bin/python3
"""Makes Fixtures/expanded-huge.pt with real PyTorch (Debian's python3-torch): the Fashion-MNIST sample's state dict
with 0.bias an expanded (stride-0) view of one element as 2^20 x 2^20 (2^40 elements, 8 TB as float64). The file is
about as small as the sample; a reader that allocates the logical size dies. The output is committed.

Run from the repository root:  /usr/bin/python3 tests/Fisher.EndToEnd.Tests/python/make_expanded.py
"""
import os

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
state = torch.load(os.path.join(ROOT, "samples", "fashion-mnist", "model.pt"))
state["0.bias"] = torch.zeros(1).expand(1 << 20, 1 << 20)
torch.save(state, os.path.join(ROOT, "tests", "Fisher.EndToEnd.Tests", "Fixtures", "expanded-huge.pt"))
