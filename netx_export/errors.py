"""Errors of the export and loading path."""


class NetworkFileError(ValueError):
    """A network file is missing, not a netx network, or does not fit the data it is given."""
