"""Errors users see: each names the file, column or parameter at fault and what was expected."""


class AcaciaError(Exception):
    """Base class: stages catch it and exit with its message, without a traceback."""


class DataError(AcaciaError):
    """Input data breaks the contract of the schema."""


class ParamsError(AcaciaError):
    """A params.yaml key is missing or malformed."""


class NotFittedError(AcaciaError):
    """A model was used before fit() or load()."""
