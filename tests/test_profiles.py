"""The quick profile is params.yaml with smaller sizes: same stages, same models, same knobs."""

from pathlib import Path

import yaml

from acacia.models import make_model

ROOT = Path(__file__).resolve().parents[1]


def _keys(tree: dict, prefix: str = "") -> set[str]:
    out = set()
    for key, value in tree.items():
        path = f"{prefix}{key}"
        out.add(path)
        # Below a model's entry the knobs differ on purpose (network sizes, budgets).
        if isinstance(value, dict) and not path.startswith("train.models."):
            out |= _keys(value, f"{path}.")
    return out


def test_quick_profile_has_the_default_sections_and_models():
    default = yaml.safe_load((ROOT / "params.yaml").read_text())
    quick = yaml.safe_load((ROOT / "profiles" / "quick.yaml").read_text())
    assert _keys(quick) == _keys(default)
    assert list(quick["train"]["models"]) == list(default["train"]["models"])


def test_every_default_model_configuration_builds():
    default = yaml.safe_load((ROOT / "params.yaml").read_text())
    for name, params in default["train"]["models"].items():
        assert make_model(name, params).get_params()["seed"] == params.get("seed", 0), name


def test_lcl_profile_is_the_default_budget_on_the_lcl_data():
    default = yaml.safe_load((ROOT / "params.yaml").read_text())
    lcl = yaml.safe_load((ROOT / "profiles" / "lcl.yaml").read_text())
    # Same models, budgets, evaluation and meta-metric: a difference in results is the data's.
    # The series representation's inputs are the data's own (LCL has no temperature table).
    own = {"simulate", "data", "usecases", "studies", "series"}
    assert set(lcl) == set(default)
    for section in set(default) - own - {"prepare", "evaluate", "train"}:
        assert lcl[section] == default[section], section

    def same_budget(models: dict, representation: dict) -> dict:
        return {name: {k: ("<series>" if v == representation else v) for k, v in (p or {}).items()}
                for name, p in models.items()}

    assert (same_budget(lcl["train"]["models"], lcl["series"]["responses"])
            == same_budget(default["train"]["models"], default["series"]["responses"]))
    assert {**lcl["prepare"], "stratify": None} == default["prepare"]
    assert {**lcl["evaluate"], "series": None} == {**default["evaluate"], "series": None}
    assert lcl["simulate"] == {} and lcl["data"]["source"] == "lcl"


def test_every_profile_declares_valid_studies_and_use_cases():
    from acacia.stages.usecase import DEFAULT_KINDS, KINDS
    from acacia.usecases.studies import config

    for path in [ROOT / "params.yaml", *(ROOT / "profiles").glob("*.yaml")]:
        params = yaml.safe_load(path.read_text())
        for name, cfg in params["studies"].items():
            assert config(cfg, name)["blocks"], (path.name, name)
        for name, cfg in params["usecases"].items():
            assert cfg.get("kind", DEFAULT_KINDS.get(name)) in KINDS, (path.name, name)
