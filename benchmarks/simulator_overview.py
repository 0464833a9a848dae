"""The simulated portfolio at a glance → reports/figures/simulator_overview.png.

Run by hand:  .venv/bin/python benchmarks/simulator_overview.py [n_customers]
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from acacia.data.simulator import (  # noqa: E402
    SimulatorConfig,
    load_tables,
    simulate_customers_static,
    simulate_ground_truth,
    simulate_portfolio,
    temperature,
)

ROOT = Path(__file__).resolve().parents[1]


def main(n: int = 20_000) -> None:
    cfg = SimulatorConfig(n_customers=n, seed=0)
    p = simulate_portfolio(cfg)
    gt = simulate_ground_truth(cfg)
    static = simulate_customers_static(SimulatorConfig(n_customers=100_000, seed=0))
    m = p.series_matrix()
    per = p.schema.series.periods
    true = p.customers[["customer_id"]].merge(gt, on="customer_id").heating_energy_true.to_numpy()

    fig, axes = plt.subplots(3, 1, figsize=(11, 11), gridspec_kw={"height_ratios": [1.3, 0.8, 1.0]})
    ax = axes[0]
    groups = {"direct electric": true == "electric_direct", "heat pump": true == "heat_pump",
              "gas / oil / wood / district": ~np.isin(true, ["electric_direct", "heat_pump"])}
    for (label, mask), color in zip(groups.items(), ["#d95f02", "#7570b3", "#1b9e77"], strict=True):
        with np.errstate(all="ignore"):
            ax.plot(per, np.nanmean(m[mask], axis=0), label=f"{label} (n={mask.sum():,})", color=color)
            lo, hi = np.nanpercentile(m[mask], [25, 75], axis=0)
        ax.fill_between(per, lo, hi, color=color, alpha=0.12)
    for ld in load_tables(cfg)["consumption"]["lockdowns"]:
        ax.axvspan(pd.Timestamp(ld["start"]), pd.Timestamp(ld["end"]), color="grey", alpha=0.15 * ld["amplitude"] + 0.05)
    ax.set_ylabel("kWh per customer-week")
    ax.set_title(f"Simulated weekly consumption by true heating energy: mean and IQR ({n:,} customers); grey: lockdowns")
    ax.legend(loc="upper right")

    ax = axes[1]
    t = temperature(cfg)
    t["week"] = pd.to_datetime(t["date"]).dt.to_period("W-SUN").dt.start_time
    weekly = t.groupby(["week", "climate_zone"]).temperature_c.mean().unstack()
    for z, color in zip(["H1", "H2", "H3"], ["#2c7bb6", "#abd9e9", "#d7191c"], strict=True):
        ax.plot(weekly.index, weekly[z], label=z, color=color)
    ax.set_ylabel("°C (weekly mean)")
    ax.set_title("Simulated temperature per climate zone")
    ax.legend(ncol=3)

    ax = axes[2]
    checks = {
        "electric heating": (static.electric_heating.mean(), 0.37),
        "houses": ((static.housing_type == "house").mean(), 0.565),
        "HP/HC": ((static.tariff_option == "HPHC").mean(), 0.44),
        "Tempo+EJP": (static.tariff_option.isin(["TEMPO", "EJP"]).mean(), 0.04),
        "6 kVA": ((static.subscribed_kva == 6).mean(), 0.45),
        "9 kVA": ((static.subscribed_kva == 9).mean(), 0.30),
        "air conditioning": (static.air_conditioning.mean(), 0.25),
        "zone H1": ((static.climate_zone == "H1").mean(), 0.50),
        "owners": ((static.occupancy_status == "owner").mean(), 0.58),
        "1-person households": ((static.household_size == 1).mean(), 0.37),
        "very difficult (ONPE)": ((static.financial_ease == "very_difficult").mean(), 0.119),
        "EV": (static.ev.mean(), 0.02),
    }
    x = np.arange(len(checks))
    ax.bar(x - 0.2, [v[0] for v in checks.values()], 0.4, label="simulated (100,000 customers)", color="#4575b4")
    ax.bar(x + 0.2, [v[1] for v in checks.values()], 0.4, label="public figure / target", color="#fdae61")
    ax.set_xticks(x, list(checks), rotation=30, ha="right")
    ax.set_ylabel("share")
    ax.set_title("Simulated marginals vs the figures they are calibrated on (data/README.md)")
    ax.legend()
    fig.tight_layout()
    out = ROOT / "reports" / "figures" / "simulator_overview.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    print(out)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
