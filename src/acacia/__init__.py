"""acacia: synthetic residential electricity portfolios, trained and benchmarked with DVC."""

__version__ = "0.1.0"
