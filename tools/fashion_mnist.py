"""What tools/make-sample.py and tools/make-cnn-sample.py share: Fashion-MNIST's IDX files, file hashes, the options
and the deterministic set-up of a training run (Debian's python3-torch, python3-numpy, dataset-fashion-mnist)."""
import argparse
import gzip
import hashlib
import os
import struct
import sys

import numpy as np
import torch

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801


def read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        data = f.read()
    got, = struct.unpack(">I", data[:4])
    if got != magic:
        sys.exit(f"{path}: magic 0x{got:08x}, expected 0x{magic:08x}")
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        sys.exit(f"{path}: {body.size} bytes of data for dims {dims}")
    return body.reshape(dims)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def options(doc, out, epochs):
    """--source (the dataset folder), --out and --epochs, with the script's defaults."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist",
                        help="folder with the four Fashion-MNIST *-ubyte.gz files")
    parser.add_argument("--out", default=out, help="output folder")
    parser.add_argument("--epochs", type=int, default=epochs)
    return parser.parse_args()


def deterministic():
    """Seed 0, one thread, deterministic algorithms: the same bytes on every run."""
    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def load(source):
    """(train images, train labels, test images, test labels) as uint8 arrays, shapes checked."""
    src = lambda name: os.path.join(source, name)
    train_x = read_idx(src("train-images-idx3-ubyte.gz"), IMAGES_MAGIC)
    train_y = read_idx(src("train-labels-idx1-ubyte.gz"), LABELS_MAGIC)
    test_x = read_idx(src("t10k-images-idx3-ubyte.gz"), IMAGES_MAGIC)
    test_y = read_idx(src("t10k-labels-idx1-ubyte.gz"), LABELS_MAGIC)
    assert train_x.shape == (60000, 28, 28) and train_y.shape == (60000,)
    assert test_x.shape == (10000, 28, 28) and test_y.shape == (10000,)
    return train_x, train_y, test_x, test_y
