"""Numbers of the schema-template questions on the wire."""

from enum import Enum, unique


@unique
class TemplateQueryType(Enum):
    COUNT_MEASUREMENTS = 0
    IS_MEASUREMENT = 1
    PATH_EXIST = 2
    SHOW_MEASUREMENTS = 3
    SHOW_TEMPLATES = 4
    SHOW_SET_TEMPLATES = 5
    SHOW_USING_TEMPLATES = 6
