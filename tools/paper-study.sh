#!/usr/bin/env bash
# The MLP study of Soen & Sun (NeurIPS 2024) on Fashion-MNIST, as described in docs/paper-study/README.md.
#
#   tools/paper-study.sh [work-folder]          (default: results/paper-study; the repository root is found from this script)
#
# For a categorical and a Gaussian (σ² = 1, one-hot targets) output: trains a 784-128-128-128-10 sigmoid MLP (four
# affine layers, estimators.md §8) with Adam (lr 1e-3, batch 128, seed 0) for 20 epochs on the 60,000 training images,
# saving a checkpoint per epoch; then `fisher sweep` estimates Î1, Î2, the exact diagonal, the empirical Fisher and
# E_x V1, E_x V2 per layer on the first 5,000 test images (K = 1 label draw, one embedded silo) for every checkpoint.
# Copies sweep.json, training.json and the plots to docs/paper-study/{categorical,gaussian}/.
#
# Environment overrides: FASHION_MNIST (data folder), EPOCHS (20), INPUTS (5000), DRAWS (1), SEED (0),
# COPY_DOCS (1; 0 leaves docs/ alone).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
work=${1:-$root/results/paper-study}
epochs=${EPOCHS:-20}
inputs=${INPUTS:-5000}
draws=${DRAWS:-1}
seed=${SEED:-0}
copy_docs=${COPY_DOCS:-1}

for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
    if [[ ! -f "$data/$f" ]]; then
        echo "error: $data/$f not found: the study needs Fashion-MNIST (Debian: apt-get install dataset-fashion-mnist, or set FASHION_MNIST=<folder with the four *-ubyte.gz files>)" >&2
        exit 2
    fi
done

start=$(date +%s)
echo "== building fisher (Release)"
dotnet build "$root/src/Fisher.Client" -c Release -nologo -v quiet -clp:ErrorsOnly
fisher=(dotnet "$root/src/Fisher.Client/bin/Release/net10.0/fisher.dll")
mkdir -p "$work"
{
    echo "started $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} > "$work/timing.txt"

for likelihood in categorical gaussian; do
    dir="$work/$likelihood"
    mkdir -p "$dir"
    cat > "$dir/architecture.json" <<EOF
{
  "widths": [784, 128, 128, 128, 10],
  "activation": "sigmoid",
  "likelihood": "$likelihood",
  "variance": 1.0,
  "input": { "scale": 0.00392156862745098, "shift": 0.0 }
}
EOF
    t0=$(date +%s)
    echo "== $likelihood: training ($epochs epochs)"
    "${fisher[@]}" train --architecture "$dir/architecture.json" \
        --data "$data/train-images-idx3-ubyte.gz" --labels "$data/train-labels-idx1-ubyte.gz" \
        --test-data "$data/t10k-images-idx3-ubyte.gz" --test-labels "$data/t10k-labels-idx1-ubyte.gz" \
        --epochs "$epochs" --batch-size 128 --lr 1e-3 --seed "$seed" --out "$dir/checkpoints"
    t1=$(date +%s)
    echo "== $likelihood: sweep ($((epochs + 1)) checkpoints x $inputs test images, K = $draws)"
    rm -rf "$dir/sweep"
    "${fisher[@]}" sweep --checkpoints "$dir/checkpoints" \
        --data "$data/t10k-images-idx3-ubyte.gz" --labels "$data/t10k-labels-idx1-ubyte.gz" \
        --inputs "$inputs" --estimators all --draws "$draws" --grouping layer --seed "$seed" \
        --no-progress --out "$dir/sweep"
    t2=$(date +%s)
    echo "$likelihood: train $((t1 - t0)) s, sweep $((t2 - t1)) s" | tee -a "$work/timing.txt"

    if [[ "$copy_docs" == 1 ]]; then
        docs="$root/docs/paper-study/$likelihood"
        mkdir -p "$docs"
        cp "$dir/sweep/sweep.json" "$dir/checkpoints/training.json" "$dir/architecture.json" "$docs/"
        cp "$dir/sweep/plots/"*.png "$docs/"
    fi
done

end=$(date +%s)
echo "total $((end - start)) s (build included), finished with load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$work/timing.txt"
echo "Results: $work; plots and sweep.json copied to docs/paper-study/{categorical,gaussian}/ (COPY_DOCS=$copy_docs)"
