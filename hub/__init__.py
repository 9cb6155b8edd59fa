"""orderhub: the order integration hub (core package)."""

__version__ = "0.1.0"
