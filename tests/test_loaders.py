"""Datasets in: user files (typed, validated, errors that name the culprit), Adult, splits."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from acacia.data.infer import infer_schema_from_files, infer_schema_from_frames
from acacia.data.loaders import load_adult, load_source, load_temperature, load_user_files
from acacia.data.portfolio import Portfolio
from acacia.data.schema import Schema
from acacia.data.splits import split_portfolio, split_with_fixed_test
from acacia.errors import DataError, ParamsError

FIX = Path(__file__).parent / "fixtures"
CUSTOMERS, CONSUMPTION, SCHEMA = FIX / "customers.csv", FIX / "consumption.csv", FIX / "schema.yaml"
# The project is cloned beside shared/ (<root>/../shared); the table is read there, never copied.
ADULT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "adult"
LCL = ADULT.parent / "lcl"
FRACTIONS = {"train": 0.5, "holdout": 0.3, "test": 0.2}


def fixture_portfolio() -> Portfolio:
    return load_user_files(CUSTOMERS, CONSUMPTION, SCHEMA)


def write_variant(tmp_path: Path, src: Path, edit: Callable[[pd.DataFrame], object]) -> Path:
    """A copy of a fixture CSV with one defect, under the same file name (messages name it)."""
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    edit(df)
    out = tmp_path / src.name
    df.to_csv(out, index=False)
    return out


def set_cell(row: int, col: str, value: str) -> Callable[[pd.DataFrame], None]:
    def edit(df: pd.DataFrame) -> None:
        df.loc[row, col] = value

    return edit


# ----------------------------------------------------------------------------- valid files
def test_csv_is_typed_like_the_simulator():
    p = fixture_portfolio()
    p.validate()
    c = p.customers
    assert list(c.columns) == p.schema.names
    assert {k: str(v) for k, v in c.dtypes.items()} == {
        "customer_id": "str",
        "tariff_option": "str",
        "surface_m2": "float64",
        "household_size": "Int64",
        "ev": "boolean",
        "contract_start_date": "datetime64[us]",
        "financial_ease": "str",
    }
    assert c.ev.tolist()[:2] == [False, True] and pd.isna(c.ev[2])
    assert c.surface_m2.isna().sum() == 1 and c.financial_ease.isna().sum() == 1
    assert str(p.consumption.period_start.dtype) == "datetime64[us]"
    mat = p.series_matrix()
    assert mat.shape == (3, 3) and np.isnan(mat).sum() == 2  # K2 and K3 each miss one week
    assert mat[1, 2] == pytest.approx(150.3)


def test_parquet_round_trip_and_periods_as_dates_or_text(tmp_path):
    p = fixture_portfolio()
    p.customers.to_parquet(tmp_path / "c.parquet")
    p.consumption.to_parquet(tmp_path / "k.parquet")
    q = load_user_files(tmp_path / "c.parquet", tmp_path / "k.parquet", SCHEMA)
    pd.testing.assert_frame_equal(p.customers, q.customers)
    pd.testing.assert_frame_equal(p.consumption, q.consumption)
    # Parquet written by other tools: periods as date32 or as text, ids and kWh as text.
    raw = pd.read_csv(CONSUMPTION, dtype=str)
    dates = [dt.date.fromisoformat(d) for d in raw.period_start]
    for periods in (pa.array(dates, pa.date32()), pa.array(raw.period_start.tolist())):
        table = pa.table({"customer_id": raw.customer_id, "period_start": periods, "kwh": raw.kwh})
        pq.write_table(table, tmp_path / "k2.parquet")
        r = load_user_files(CUSTOMERS, tmp_path / "k2.parquet", SCHEMA)
        pd.testing.assert_frame_equal(p.consumption, r.consumption)


def test_french_spreadsheet_export_reads_the_same():
    # BOM, ';' separator, decimal comma, oui/non: what a spreadsheet in French locale writes.
    p = fixture_portfolio()
    q = load_user_files(FIX / "customers_fr.csv", CONSUMPTION, SCHEMA)
    pd.testing.assert_frame_equal(p.customers, q.customers)


def test_null_tokens_unless_a_declared_category(tmp_path):
    path = write_variant(tmp_path, CUSTOMERS, set_cell(0, "financial_ease", "None"))
    assert pd.isna(load_user_files(path, CONSUMPTION, SCHEMA).customers.financial_ease[0])
    schema = tmp_path / "schema.yaml"
    schema.write_text(SCHEMA.read_text().replace("[difficult, ok]", "[difficult, ok, None]"))
    assert load_user_files(path, CONSUMPTION, schema).customers.financial_ease[0] == "None"


def test_schema_as_json_and_extra_columns_ignored(tmp_path):
    p = fixture_portfolio()
    p.schema.save(tmp_path / "schema.json")
    extra = write_variant(tmp_path, CUSTOMERS, lambda d: d.insert(1, "note", "x"))
    q = load_user_files(extra, CONSUMPTION, tmp_path / "schema.json")
    pd.testing.assert_frame_equal(p.customers, q.customers)


# ----------------------------------------------------------------------------- bad files
def _drop(col: str) -> Callable[[pd.DataFrame], None]:
    return lambda d: d.drop(columns=[col], inplace=True)


BAD_CUSTOMERS = [
    ("unparseable date", set_cell(1, "contract_start_date", "31/31/2020"),
     r"contract_start_date' has unparseable date '31/31/2020' \(line 3\)"),
    ("ambiguous date", set_cell(0, "contract_start_date", "01/03/2012"), "01/03/2012"),
    ("duplicate id", set_cell(1, "customer_id", "K1"), "duplicate customer_id 'K1'"),
    ("unknown category", set_cell(1, "tariff_option", "TEMPO"), "tariff_option.*'TEMPO'"),
    ("non-integer", set_cell(1, "household_size", "2.5"), r"household_size.*'2\.5' \(line 3\)"),
    ("non-numeric", set_cell(0, "surface_m2", "big"), r"surface_m2.*'big' \(line 2\)"),
    ("below minimum", set_cell(0, "surface_m2", "2"), "surface_m2.*minimum 5"),
    ("not boolean", set_cell(1, "ev", "maybe"), r"'ev'.*'maybe' \(line 3\)"),
    ("empty, not nullable", set_cell(2, "tariff_option", ""), r"tariff_option' is empty \(line 4\)"),
    ("missing column", _drop("ev"), r"missing columns \['ev'\]"),
]  # fmt: skip


@pytest.mark.parametrize("case,edit,message", BAD_CUSTOMERS, ids=[c[0] for c in BAD_CUSTOMERS])
def test_bad_customers_are_named(tmp_path, case, edit, message):
    path = write_variant(tmp_path, CUSTOMERS, edit)
    with pytest.raises(DataError, match=message) as e:
        load_user_files(path, CONSUMPTION, SCHEMA)
    assert str(path) in str(e.value)


BAD_CONSUMPTION = [
    ("negative kWh", set_cell(1, "kwh", "-3"),
     r"'kwh' has negative value -3 for customer 'K1' on 2021-01-11 \(line 3\)"),
    ("non-numeric kWh", set_cell(1, "kwh", "lots"), "kwh.*'lots'"),
    ("unknown customer", set_cell(0, "customer_id", "K9"), r"unknown customer 'K9' \(line 2\)"),
    ("irregular period", set_cell(1, "period_start", "2021-01-12"),
     "irregular period 2021-01-12 is not on the weekly grid"),
    ("period past the end", set_cell(2, "period_start", "2021-01-25"),
     "period 2021-01-25 is outside the declared series"),
    ("unparseable period", set_cell(1, "period_start", "soon"), "period_start.*'soon'"),
    ("two readings", set_cell(1, "period_start", "2021-01-04"),
     "two readings for customer 'K1' on 2021-01-04"),
    ("missing column", _drop("kwh"), r"missing columns \['kwh'\]"),
]  # fmt: skip


@pytest.mark.parametrize("case,edit,message", BAD_CONSUMPTION, ids=[c[0] for c in BAD_CONSUMPTION])
def test_bad_consumption_is_named(tmp_path, case, edit, message):
    path = write_variant(tmp_path, CONSUMPTION, edit)
    with pytest.raises(DataError, match=message) as e:
        load_user_files(CUSTOMERS, path, SCHEMA)
    assert str(path) in str(e.value)


def test_bad_files_and_schemas_are_named(tmp_path):
    with pytest.raises(DataError, match=f"customers file not found: {tmp_path / 'nope.csv'}"):
        load_user_files(tmp_path / "nope.csv", CONSUMPTION, SCHEMA)
    (tmp_path / "c.xlsx").write_text("x")
    with pytest.raises(DataError, match=r"c\.xlsx: unsupported file type '\.xlsx'.*'\.parquet'"):
        load_user_files(tmp_path / "c.xlsx", CONSUMPTION, SCHEMA)
    (tmp_path / "k.parquet").write_text("not parquet")
    with pytest.raises(DataError, match="k.parquet: cannot be read as Parquet"):
        load_user_files(CUSTOMERS, tmp_path / "k.parquet", SCHEMA)
    with pytest.raises(DataError, match="schema file not found"):
        load_user_files(CUSTOMERS, CONSUMPTION, tmp_path / "schema.yaml")
    bad = tmp_path / "bad_kind.yaml"
    bad.write_text(SCHEMA.read_text().replace("kind: integer", "kind: count"))
    with pytest.raises(DataError, match="household_size': unknown kind 'count'"):
        load_user_files(CUSTOMERS, CONSUMPTION, bad)
    no_series = tmp_path / "no_series.yaml"
    no_series.write_text(SCHEMA.read_text().split("series:")[0])
    with pytest.raises(DataError, match=f"{no_series}: no 'series' block.*consumption.csv"):
        load_user_files(CUSTOMERS, CONSUMPTION, no_series)
    tuesday = tmp_path / "tuesday.yaml"
    tuesday.write_text(SCHEMA.read_text().replace("2021-01-04", "2021-01-05"))
    with pytest.raises(DataError, match=f"{tuesday}: weekly series must start on a Monday"):
        load_user_files(CUSTOMERS, CONSUMPTION, tuesday)


# ----------------------------------------------------------------------------- dispatch
def test_source_dispatch(tmp_path, tiny_portfolio):
    files = {"source": "files", "path": ".", "customers": "customers.csv", "consumption": "consumption.csv"}
    p = load_source(files, FIX)["all"]  # schema: schema.yaml found in the folder
    pd.testing.assert_frame_equal(p.customers, fixture_portfolio().customers)
    tiny_portfolio.save(tmp_path / "data/raw/simulated")
    sim = load_source({"source": "simulated", "path": "data/raw/simulated"}, tmp_path)["all"]
    assert sim.ids.tolist() == tiny_portfolio.ids.tolist()
    assert len(sim.consumption) == len(tiny_portfolio.consumption)
    # files: the customers and consumption file names default to customers.* / consumption.*
    folder = tmp_path / "mine"
    folder.mkdir()
    for f in (CUSTOMERS, CONSUMPTION):
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "my_schema.yaml").write_bytes(SCHEMA.read_bytes())
    q = load_source({"source": "files", "path": "mine", "schema": "my_schema.yaml"}, tmp_path)["all"]
    pd.testing.assert_frame_equal(q.customers, p.customers)


def test_source_errors_name_the_key(tmp_path):
    with pytest.raises(ParamsError, match=r"data\.source: expected one of .*'excel'"):
        load_source({"source": "excel", "path": "."}, tmp_path)
    with pytest.raises(ParamsError, match=r"data\.path: expected the input folder of data.source 'files'"):
        load_source({"source": "files"}, tmp_path)
    with pytest.raises(ParamsError, match=r"data\.adult_path: replaced by data\.path"):
        load_source({"source": "adult", "adult_path": "x"}, tmp_path)
    with pytest.raises(DataError, match="data.path: input folder .*missing not found; point data.path at the folder holding adult"):
        load_source({"source": "adult", "path": "missing"}, tmp_path)
    with pytest.raises(DataError, match="Adult table not found at"):
        load_source({"source": "adult", "path": "."}, tmp_path)
    with pytest.raises(DataError, match=r"run the stage that writes it \(dvc repro simulate@"):
        load_source({"source": "simulated", "path": "nowhere"}, tmp_path)
    with pytest.raises(DataError, match=r"no customers file; expected one of \['customers.parquet', 'customers.csv'\]"):
        load_source({"source": "files", "path": "."}, tmp_path)
    for f in (CUSTOMERS, CONSUMPTION):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    with pytest.raises(DataError, match=r"no schema file; .*acacia schema infer"):
        load_source({"source": "files", "path": "."}, tmp_path)
    with pytest.raises(DataError, match=r"Low Carbon London folder"):
        load_source({"source": "lcl", "path": "no_lcl_here"}, tmp_path)


def test_temperature_table_is_checked(tmp_path):
    bad = tmp_path / "temperature.csv"
    bad.write_text("date,zone,temperature_c\n2021-01-04,H1,3.5\n")
    with pytest.raises(DataError, match=r"missing temperature columns \['climate_zone'\]"):
        load_temperature(bad)
    good = tmp_path / "t.csv"
    good.write_text("date,climate_zone,temperature_c\n2021-01-04,H1,3.5\n2021-01-05,H1,-1\n")
    t = load_temperature(good)
    assert t["temperature_c"].tolist() == [3.5, -1.0] and str(t["date"].dtype) == "datetime64[us]"


# ----------------------------------------------------------------------------- LCL
@pytest.fixture(scope="module")
def lcl() -> Portfolio:
    assert LCL.is_dir(), (f"the LCL half is expected at {LCL} (shared/ beside the project checkout); "
                          "see ../shared/datasets/lcl/README.md")
    return load_source({"source": "lcl", "path": str(LCL)}, Path("."))["all"]


def test_lcl_loads_with_its_shipped_schema(lcl):
    assert len(lcl) == 2_424 and lcl.schema.series.frequency == "daily" and lcl.schema.series.n_periods == 515
    assert lcl.schema.targets == ["Acorn_grouped"]
    mat = lcl.series_matrix()
    assert 0.005 < np.isnan(mat).mean() < 0.012  # the README's ≈ 0.8 % missing days
    assert set(lcl.customers["stdorToU"]) == {"Std", "ToU"}


def test_schema_infer_on_the_lcl_files_is_accepted_unchanged(tmp_path, lcl):
    out = tmp_path / "schema.yaml"
    res = subprocess.run([sys.executable, "-m", "acacia.cli", "schema", "infer", str(LCL / "customers.parquet"),
                          str(LCL / "consumption.parquet"), "--out", str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    draft = out.read_text()
    assert draft.startswith("# Drafted by `acacia schema infer`") and "frequency: daily" in draft
    folder = tmp_path / "lcl"
    folder.mkdir()
    for name in ("customers.parquet", "consumption.parquet"):
        (folder / name).symlink_to(LCL / name)
    (folder / "schema.yaml").write_text(draft)
    p = load_source({"source": "files", "path": str(folder)}, Path("."))["all"]
    pd.testing.assert_frame_equal(p.customers, lcl.customers)
    pd.testing.assert_frame_equal(p.consumption, lcl.consumption)


def test_schema_infer_reads_kinds_from_csv_text(tmp_path):
    schema = infer_schema_from_files(CUSTOMERS, CONSUMPTION)
    declared = Schema.load(SCHEMA)
    # The kinds, the nullability, the categories and the series grid a human declared for these
    # files, read off the text; bounds are the observed range (the human's are wider).
    for c in declared.columns:
        got = schema[c.name]
        assert (got.kind, got.nullable, got.categories) == (c.kind, c.nullable, c.categories), c.name
    assert schema["household_size"].min == 1 and not any(c.target for c in schema.columns)
    assert schema.series == declared.series
    with pytest.raises(DataError, match="weekly periods start on Mondays"):
        infer_schema_from_frames(pd.DataFrame({"customer_id": ["a"]}), pd.DataFrame(
            {"customer_id": ["a", "a"], "period_start": ["2021-01-05", "2021-01-12"], "kwh": [1.0, 2.0]}))


def test_portfolio_from_frames_infers_the_schema():
    p = Portfolio.from_frames(
        pd.DataFrame({"customer_id": ["a", "b", "c"], "surface": [50.5, None, 80.0], "ev": ["yes", "no", "yes"],
                      "since": ["2020-01-01", "2021-06-01", None]}),
        pd.DataFrame({"customer_id": ["a", "a", "b"], "period_start": ["2020-01-06", "2020-01-13", "2020-01-06"],
                      "kwh": [1.0, 2.0, 3.0]}))
    assert {c.name: c.kind for c in p.schema.columns} == {"customer_id": "id", "surface": "numerical",
                                                           "ev": "boolean", "since": "date"}
    assert p.schema.series.frequency == "weekly" and p.schema.series.n_periods == 2
    assert p.series_matrix().tolist()[1][1] != p.series_matrix().tolist()[1][1]  # b's missing week: NaN
    with pytest.raises(DataError, match="consumption for unknown customer 'z'"):
        Portfolio.from_frames(pd.DataFrame({"customer_id": ["a"]}), pd.DataFrame(
            {"customer_id": ["z"], "period_start": ["2020-01-06"], "kwh": [1.0]}), p.schema.__class__(
                columns=[p.schema.columns[0]], series=p.schema.series))


# ----------------------------------------------------------------------------- Adult
@pytest.fixture(scope="module")
def adult() -> tuple[Portfolio, Portfolio]:
    assert ADULT.is_dir(), (
        f"the Adult table is expected at {ADULT} (shared/ beside the project checkout); "
        "see ../shared/datasets/adult/README.md"
    )
    return load_adult(ADULT)


def test_adult_loads_with_the_paper_split(adult):
    train, test = adult
    assert (len(train), len(test)) == (32_561, 16_281)
    assert train.customers.columns[0] == "customer_id" and len(train.customers.columns) == 16
    assert train.ids.iloc[0] == "A0000001" and test.ids.iloc[0] == "A0032562"
    assert set(train.ids).isdisjoint(test.ids)
    assert set(train.customers.income) == set(test.customers.income) == {"<=50K", ">50K"}
    for col in ("workclass", "occupation", "native-country"):
        assert train.customers[col].isna().sum() > 0 and test.customers[col].isna().sum() > 0
        assert "?" not in set(train.customers[col].dropna())
    ints = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
    assert train.schema.of_kind("integer") == ints
    assert all(str(train.customers[c].dtype) == "Int64" for c in ints)
    assert train.schema.targets == ["income"] and train.schema.series is None
    assert list(train.consumption.columns) == ["customer_id", "period_start", "kwh"]
    assert len(train.consumption) == len(test.consumption) == 0
    # One schema over both splits: every test category is a valid value.
    train.validate("adult train")
    test.validate("adult test")


def test_adult_missing_file_is_named(tmp_path):
    (tmp_path / "adult.data.csv").write_text("age\n1\n")
    with pytest.raises(DataError, match=r"Adult table not found at .*\['adult\.test\.csv'\]"):
        load_adult(tmp_path)


def test_adult_fixed_test_split(adult):
    train, test = adult
    a = split_with_fixed_test(train, test, 0.5, seed=0)
    b = split_with_fixed_test(train, test, 0.5, seed=0)
    assert a["test"] is test
    assert len(a["train"]) + len(a["holdout"]) == 32_561
    assert abs(len(a["train"]) - len(a["holdout"])) <= 1
    assert set(a["train"].ids).isdisjoint(a["holdout"].ids)
    assert a["holdout"].ids.tolist() == b["holdout"].ids.tolist()
    strat = split_with_fixed_test(train, test, 0.25, seed=0, stratify="income")
    share = lambda p: (p.customers.income == ">50K").mean()  # noqa: E731
    assert abs(share(strat["holdout"]) - share(train)) < 1e-3
    with pytest.raises(DataError, match="both the training pool and the test split"):
        split_with_fixed_test(train, train, 0.5, seed=0)
    with pytest.raises(ParamsError, match="prepare.split"):
        split_with_fixed_test(train, test, 1.0, seed=0)


# ----------------------------------------------------------------------------- splits
def test_splits_are_disjoint_deterministic_and_sized(tiny_portfolio):
    a = split_portfolio(tiny_portfolio, FRACTIONS, seed=1)
    b = split_portfolio(tiny_portfolio, FRACTIONS, seed=1)
    c = split_portfolio(tiny_portfolio, FRACTIONS, seed=2)
    assert [len(a[s]) for s in ("train", "holdout", "test")] == [120, 72, 48]
    ids = [set(a[s].ids) for s in a]
    assert set.union(*ids) == set(tiny_portfolio.ids) and sum(map(len, ids)) == 240
    for s in a:
        assert a[s].ids.tolist() == b[s].ids.tolist()
        cons = a[s].consumption
        assert set(cons.customer_id) <= set(a[s].ids)
        expected = tiny_portfolio.consumption.customer_id.isin(a[s].ids).sum()
        assert len(cons) == expected  # every reading follows its customer
        a[s].validate(s)
    assert a["test"].ids.tolist() != c["test"].ids.tolist()


def test_splits_do_not_depend_on_row_order(tiny_portfolio):
    shuffled = Portfolio(
        tiny_portfolio.customers.sample(frac=1, random_state=3).reset_index(drop=True),
        tiny_portfolio.consumption.sample(frac=1, random_state=4).reset_index(drop=True),
        tiny_portfolio.schema,
    )
    for stratify in (None, "heating_energy"):
        a = split_portfolio(tiny_portfolio, FRACTIONS, seed=5, stratify=stratify)
        b = split_portfolio(shuffled, FRACTIONS, seed=5, stratify=stratify)
        for s in a:
            assert set(a[s].ids) == set(b[s].ids)


def test_stratified_split_keeps_each_category_share(tiny_portfolio):
    for col in ("heating_energy", "financial_ease", "ev"):  # ev and financial_ease have nulls
        parts = split_portfolio(tiny_portfolio, FRACTIONS, seed=1, stratify=col)
        assert [len(parts[s]) for s in ("train", "holdout", "test")] == [120, 72, 48]
        whole = tiny_portfolio.customers[col].value_counts(dropna=False)
        for name, share in FRACTIONS.items():
            got = parts[name].customers[col].value_counts(dropna=False)
            assert (got.reindex(whole.index, fill_value=0) - whole * share).abs().max() <= 1, col


def test_split_parameters_are_checked(tiny_portfolio):
    for bad in (
        {"train": 0.5, "holdout": 0.4, "test": 0.2},
        {"train": 0.8, "test": 0.2},
        {"train": 1.2, "holdout": -0.4, "test": 0.2},
        {"train": "half", "holdout": 0.3, "test": 0.2},
    ):
        with pytest.raises(ParamsError, match="prepare.split"):
            split_portfolio(tiny_portfolio, bad, seed=0)
    with pytest.raises(ParamsError, match="prepare.stratify: column 'surface_m2' is numerical"):
        split_portfolio(tiny_portfolio, FRACTIONS, seed=0, stratify="surface_m2")
    with pytest.raises(ParamsError, match="prepare.stratify: unknown column 'colour'"):
        split_portfolio(tiny_portfolio, FRACTIONS, seed=0, stratify="colour")
    few = tiny_portfolio.subset(tiny_portfolio.ids[:3])
    with pytest.raises(DataError, match="3 customers is too small"):
        split_portfolio(few, {"train": 0.8, "holdout": 0.1, "test": 0.1}, seed=0)


def test_matrix_load_reads_the_long_file_in_batches(tmp_path, tiny_portfolio):
    """The evaluation's loader: the same matrix as from the long table, whatever the batch size,
    read-only, and the long table still there on demand."""
    from acacia.data.portfolio import CONSUMPTION_FILE, MatrixPortfolio, read_series_matrix

    p = tiny_portfolio
    # Shuffled rows: the file's order must not matter.
    shuffled = p.consumption.sample(frac=1.0, random_state=0).reset_index(drop=True)
    Portfolio(p.customers, shuffled, p.schema).save(tmp_path)
    q = Portfolio.load(tmp_path, as_matrix=True)
    assert isinstance(q, MatrixPortfolio)
    np.testing.assert_array_equal(q.series_matrix(), p.series_matrix())
    small = read_series_matrix(tmp_path / CONSUMPTION_FILE, p.ids, p.schema, batch_rows=97)
    np.testing.assert_array_equal(small, p.series_matrix())
    with pytest.raises(ValueError, match="read-only"):
        q.series_matrix()[0, 0] = 1.0
    given = p.series_matrix()
    MatrixPortfolio(p.customers, given, p.schema)
    assert given.flags.writeable  # the caller's array is left as it was
    assert len(q.consumption) == len(p.consumption) and q.validate() is q


def test_matrix_load_names_a_consumption_file_that_does_not_match(tmp_path, tiny_portfolio):
    from acacia.data.portfolio import CONSUMPTION_FILE

    p = tiny_portfolio
    p.save(tmp_path)
    Portfolio(p.customers.iloc[1:].reset_index(drop=True), p.consumption, p.schema).save(tmp_path / "fewer")
    (tmp_path / "fewer" / CONSUMPTION_FILE).write_bytes((tmp_path / CONSUMPTION_FILE).read_bytes())
    with pytest.raises(DataError, match="consumption.parquet: readings that match no customer"):
        Portfolio.load(tmp_path / "fewer", as_matrix=True)
    pq.write_table(pa.table({"customer_id": ["C00000"], "kwh": [1.0]}), tmp_path / CONSUMPTION_FILE)
    with pytest.raises(DataError, match=r"missing column\(s\) \['period_start'\]"):
        Portfolio.load(tmp_path, as_matrix=True)
