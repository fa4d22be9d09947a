"""Import location of ``IoTDBConnectionException`` in the 1.0.x client."""

from iotdb.utils.exception import IoTDBConnectionException, StatementExecutionException

__all__ = ["IoTDBConnectionException", "StatementExecutionException"]
