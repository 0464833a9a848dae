"""Did the refactor of issue 30 (models/blocks, models/diffusion, safe model files) change what the
neural models learn? The first two epochs of a model, trained by the code of commit d1c88f8 and by
this checkout's, on this checkout's train split and on this machine.

    .venv/bin/python experiments/2026-12-study-refactor/same_training.py   # after `dvc repro prepare`

Writes same_training.md. The models' loss curves committed at d1c88f8 came from another machine;
this tells a change of code apart from a change of machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OLD_COMMIT = "d1c88f8"
MODELS = {"tabddpm": "tabddpm", "tabdiff": "tabdiff", "tvae_variant": "tvae"}  # new name: name at d1c88f8

CHILD = """
import copy, json, sys, yaml
sys.path.insert(0, sys.argv[1] + "/src")
from acacia.data.portfolio import Portfolio
from acacia.models import make_model
params = yaml.safe_load(open(sys.argv[1] + "/params.yaml"))
model_params = copy.deepcopy(params["train"]["models"][sys.argv[2]])
model_params.setdefault("training", {})["max_epochs"] = 2
synth = make_model(sys.argv[2], model_params)
synth.fit(Portfolio.load("data/processed/train", as_matrix=True))
r = synth.training_result_
print(json.dumps(r["history"] if isinstance(r, dict) else r.history))
"""


def first_epochs(code_root: Path, model: str) -> list[dict]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(code_root), model], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    old = Path(tempfile.mkdtemp()) / "old"
    subprocess.run(["git", "worktree", "add", "-q", "--detach", str(old), OLD_COMMIT], cwd=ROOT, check=True)
    try:
        rows = []
        for new_name, old_name in MODELS.items():
            a, b = first_epochs(old, old_name), first_epochs(ROOT, new_name)
            same = "identical" if a == b else "different"
            for ea, eb in zip(a, b, strict=True):
                rows.append(f"| {new_name} | {ea['epoch']} | {ea['train_loss']!r} | {eb['train_loss']!r} | "
                            f"{ea['val_loss']!r} | {eb['val_loss']!r} | {same} |")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=True)
    text = "\n".join([
        "# The same training before and after the refactor",
        "",
        f"Produced by `same_training.py`: each model's first two epochs at its params.yaml settings, by the "
        f"code of {OLD_COMMIT} (old) and of this checkout (new), on this checkout's train split, one machine.",
        "",
        "| model | epoch | train loss (old) | train loss (new) | val loss (old) | val loss (new) | |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        *rows,
        "",
    ])
    Path(__file__).with_name("same_training.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
