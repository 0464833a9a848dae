"""Datasets in: user files (validated, typed), the Adult table; splits by customer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from acacia.data.loaders import load_adult, load_source, load_user_files
from acacia.data.splits import split_portfolio, split_with_fixed_test
from acacia.errors import DataError, ParamsError
from conftest import ROOT

FIX = Path(__file__).parent / "fixtures"
ADULT = ROOT.parent / "shared" / "datasets" / "adult"


def write_variant(tmp_path: Path, name: str, edit) -> Path:
    src = FIX / name
    df = pd.read_csv(src, dtype=str)
    edit(df)
    out = tmp_path / name
    df.to_csv(out, index=False)
    return out


def test_csv_and_parquet_round_trip(tmp_path):
    p = load_user_files(FIX / "customers.csv", FIX / "consumption.csv", FIX / "schema.yaml")
    p.validate()
    assert p.customers.household_size.dtype == "Int64"
    assert p.customers.ev.tolist()[:2] == [False, True] and pd.isna(p.customers.ev[2])
    assert p.customers.surface_m2.isna().sum() == 1
    assert p.series_matrix().shape == (3, 3)
    p.customers.to_parquet(tmp_path / "c.parquet")
    p.consumption.to_parquet(tmp_path / "k.parquet")
    q = load_user_files(tmp_path / "c.parquet", tmp_path / "k.parquet", FIX / "schema.yaml")
    pd.testing.assert_frame_equal(p.customers, q.customers)
    pd.testing.assert_frame_equal(p.consumption, q.consumption)


BAD_CUSTOMERS = [
    ("unparseable date", lambda d: d.__setitem__("contract_start_date", ["2012-03-01", "31/31/2020", "2021-01-05"]), "contract_start_date.*31/31/2020"),
    ("duplicate id", lambda d: d.__setitem__("customer_id", ["K1", "K1", "K3"]), "duplicate customer_id 'K1'"),
    ("unknown category", lambda d: d.__setitem__("tariff_option", ["BASE", "TEMPO", "BASE"]), "tariff_option.*TEMPO"),
    ("non-integer", lambda d: d.__setitem__("household_size", ["2", "2.5", "1"]), "household_size"),
    ("missing column", lambda d: d.drop(columns=["ev"], inplace=True), r"missing columns \['ev'\]"),
    ("not boolean", lambda d: d.__setitem__("ev", ["false", "maybe", ""]), "ev.*maybe"),
]


@pytest.mark.parametrize("case,edit,message", BAD_CUSTOMERS, ids=[c[0] for c in BAD_CUSTOMERS])
def test_bad_customers_are_named(tmp_path, case, edit, message):
    path = write_variant(tmp_path, "customers.csv", edit)
    with pytest.raises(DataError, match=message) as e:
        load_user_files(path, FIX / "consumption.csv", FIX / "schema.yaml")
    assert "customers.csv" in str(e.value)


BAD_CONSUMPTION = [
    ("negative kWh", lambda d: d.loc.__setitem__((1, "kwh"), "-3"), "negative"),
    ("unknown customer", lambda d: d.loc.__setitem__((0, "customer_id"), "K9"), "unknown customer 'K9'"),
    ("irregular period", lambda d: d.loc.__setitem__((1, "period_start"), "2021-01-12"), "irregular period 2021-01-12"),
    ("unparseable period", lambda d: d.loc.__setitem__((1, "period_start"), "soon"), "period_start.*soon"),
]


@pytest.mark.parametrize("case,edit,message", BAD_CONSUMPTION, ids=[c[0] for c in BAD_CONSUMPTION])
def test_bad_consumption_is_named(tmp_path, case, edit, message):
    path = write_variant(tmp_path, "consumption.csv", edit)
    with pytest.raises(DataError, match=message) as e:
        load_user_files(FIX / "customers.csv", path, FIX / "schema.yaml")
    assert "consumption.csv" in str(e.value)


def test_bad_files_and_schema(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_user_files(tmp_path / "nope.csv", FIX / "consumption.csv", FIX / "schema.yaml")
    (tmp_path / "c.xlsx").write_text("x")
    with pytest.raises(DataError, match=r"unsupported file type '\.xlsx'"):
        load_user_files(tmp_path / "c.xlsx", FIX / "consumption.csv", FIX / "schema.yaml")
    bad = tmp_path / "schema.yaml"
    bad.write_text((FIX / "schema.yaml").read_text().replace("kind: integer", "kind: count"))
    with pytest.raises(DataError, match="unknown kind 'count'"):
        load_user_files(FIX / "customers.csv", FIX / "consumption.csv", bad)


def test_source_dispatch_errors_name_the_key(tmp_path):
    with pytest.raises(ParamsError, match="data.source"):
        load_source({"source": "excel"}, tmp_path)
    with pytest.raises(ParamsError, match="data.schema"):
        load_source({"source": "files", "customers": "a.csv", "consumption": "b.csv"}, tmp_path)
    with pytest.raises(DataError, match="data.adult_path"):
        load_source({"source": "adult", "adult_path": "missing"}, tmp_path)


def test_adult_loads_with_the_paper_split():
    assert ADULT.exists(), f"the Adult table is expected at {ADULT} (shared/ beside the project)"
    train, test = load_adult(ADULT)
    assert (len(train), len(test)) == (32_561, 16_281)
    assert len(train.customers.columns) == 16
    assert set(train.customers.income) == set(test.customers.income) == {"<=50K", ">50K"}
    for col in ("workclass", "occupation", "native-country"):
        assert train.customers[col].isna().sum() > 0
    assert train.customers.age.dtype == "Int64" and train.schema.targets == ["income"]
    train.validate()
    test.validate()
    splits = split_with_fixed_test(train, test, 0.5, seed=0)
    assert len(splits["train"]) + len(splits["holdout"]) == 32_561 and splits["test"] is test


def test_splits_are_disjoint_deterministic_and_sized(tiny_portfolio):
    fr = {"train": 0.5, "holdout": 0.3, "test": 0.2}
    a = split_portfolio(tiny_portfolio, fr, seed=1)
    b = split_portfolio(tiny_portfolio, fr, seed=1)
    ids = [set(a[s].ids) for s in a]
    assert sum(map(len, ids)) == len(tiny_portfolio) and len(set.union(*ids)) == len(tiny_portfolio)
    assert [len(a[s]) for s in ("train", "holdout", "test")] == [120, 72, 48]
    for s in a:
        assert a[s].ids.tolist() == b[s].ids.tolist()
        assert set(a[s].consumption.customer_id) <= set(a[s].ids)
    strat = split_portfolio(tiny_portfolio, fr, seed=1, stratify="heating_energy")
    share = lambda p: (p.customers.heating_energy == "gas").mean()  # noqa: E731
    assert abs(share(strat["test"]) - share(tiny_portfolio)) < 0.03
    with pytest.raises(ParamsError, match="prepare.split"):
        split_portfolio(tiny_portfolio, {"train": 0.5, "holdout": 0.4, "test": 0.2}, seed=0)
