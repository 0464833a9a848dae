"""Energy and carbon of a stage, measured with codecarbon's offline tracker (France's grid).

Offline mode never touches the network: the country's carbon intensity ships with codecarbon.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator


@contextlib.contextmanager
def track(prefix: str, enabled: bool = True, country: str = "FRA") -> Iterator[dict[str, float]]:
    """Fill the yielded dict with ``<prefix>_seconds``, ``_energy_kwh`` and ``_emissions_kg``."""
    out: dict[str, float] = {}
    tracker = None
    if enabled:
        from codecarbon import OfflineEmissionsTracker

        # codecarbon logs its start-up at INFO before applying log_level: silence it first.
        logging.getLogger("codecarbon").setLevel(logging.ERROR)
        tracker = OfflineEmissionsTracker(
            country_iso_code=country, save_to_file=False, log_level="error",
            measure_power_secs=5, tracking_mode="process",
        )
        tracker.start()
    start = time.perf_counter()
    try:
        yield out
    finally:
        out[f"{prefix}_seconds"] = round(time.perf_counter() - start, 3)
        if tracker is not None:
            tracker.stop()
            data = tracker.final_emissions_data
            out[f"{prefix}_energy_kwh"] = float(data.energy_consumed)
            out[f"{prefix}_emissions_kg"] = float(data.emissions)
