"""PEP 249 exceptions. Server errors keep their IoTDB status code in ``code``."""

from __future__ import annotations


class Warning(Exception):  # the name PEP 249 prescribes (shadows the builtin here only)
    pass


class Error(Exception):
    def __init__(self, *args, code=None):
        super().__init__(*args)
        self.code = code


class InterfaceError(Error):
    pass


class DatabaseError(Error):
    pass


class DataError(DatabaseError):
    pass


class OperationalError(DatabaseError):
    pass


class IntegrityError(DatabaseError):
    pass


class InternalError(DatabaseError):
    pass


class ProgrammingError(DatabaseError):
    pass


class NotSupportedError(DatabaseError):
    pass
