"""tagmgr: declarative container-image tag manager."""

__version__ = "0.1.0"
