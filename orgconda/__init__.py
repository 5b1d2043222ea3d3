"""orgconda: build organization-branded conda installers with constructor."""

__version__ = "0.1.0"
