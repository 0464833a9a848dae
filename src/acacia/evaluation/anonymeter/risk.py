"""Success rates and the privacy risk of an attack, as Anonymeter defines them.

Each attack is run three times: against the training rows (the *main* attack), against the control
rows no generator saw (the *control* attack) and by a random guesser (the *baseline*). Success
rates are Wilson score estimates (centre and half-width); the risk is the main attack's excess
success over the control's, normalised by the room left above the control:

    risk = (main − control) / (1 − control)

with its half-width propagated to first order, and the risk and its interval clipped to [0, 1]
(Giomi et al., PoPETs 2023, §4; ``anonymeter.stats.confidence``). The baseline is not part of
the risk: an attack that does no better than random guessing says nothing, which
:attr:`RiskResult.beats_baseline` reports.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from scipy.stats import norm


@dataclass(frozen=True)
class SuccessRate:
    value: float  # Wilson score centre
    error: float  # half-width of the interval at the requested confidence


def success_rate(n_attacks: int, n_success: float, confidence: float = 0.95) -> SuccessRate:
    """Wilson score estimate of a Bernoulli rate. ``n_success`` may be fractional (singling-out
    rescales the control count for the control set's size); NaN rates when nothing was attacked."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence: expected a level in (0, 1), got {confidence!r}")
    if n_attacks <= 0:
        return SuccessRate(float("nan"), float("nan"))
    z = float(norm.ppf(0.5 * (1.0 + confidence)))
    z2 = z * z
    denominator = n_attacks + z2
    variance = max(n_success * (n_attacks - n_success) / n_attacks, 0.0)
    return SuccessRate((n_success + 0.5 * z2) / denominator, z / denominator * math.sqrt(variance + 0.25 * z2))


@dataclass(frozen=True)
class RiskResult:
    """One attack's risk with its confidence interval, and the raw counts behind it."""

    risk: float
    ci_low: float
    ci_high: float
    main_rate: float
    control_rate: float
    baseline_rate: float
    n_main: int  # attacks against the training rows
    n_control: int
    n_baseline: int
    main_success: float
    control_success: float
    baseline_success: float

    @property
    def beats_baseline(self) -> bool:
        """Anonymeter's sanity check: below the random guesser the attack measures nothing."""
        return self.main_rate > self.baseline_rate

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def residual_risk(main: SuccessRate, control: SuccessRate) -> SuccessRate:
    """(main − control) / (1 − control), its error propagated from both rates' half-widths."""
    room = 1.0 - control.value
    if not room > 0:
        return SuccessRate(float("nan"), float("nan"))
    value = (main.value - control.value) / room
    d_main = 1.0 / room
    d_control = (main.value - 1.0) / room**2
    return SuccessRate(value, math.hypot(main.error * d_main, control.error * d_control))


def _clip(x: float) -> float:
    return float(min(max(x, 0.0), 1.0)) if math.isfinite(x) else float("nan")


def risk_from_counts(
    n_main: int,
    main_success: float,
    n_control: int,
    control_success: float,
    n_baseline: int,
    baseline_success: float,
    confidence: float = 0.95,
) -> RiskResult:
    """The :class:`RiskResult` of an attack from its success counts."""
    main = success_rate(n_main, main_success, confidence)
    control = success_rate(n_control, control_success, confidence)
    baseline = success_rate(n_baseline, baseline_success, confidence)
    r = residual_risk(main, control)
    return RiskResult(
        risk=_clip(r.value),
        ci_low=_clip(r.value - r.error),
        ci_high=_clip(r.value + r.error),
        main_rate=main.value,
        control_rate=control.value,
        baseline_rate=baseline.value,
        n_main=n_main,
        n_control=n_control,
        n_baseline=n_baseline,
        main_success=float(main_success),
        control_success=float(control_success),
        baseline_success=float(baseline_success),
    )
