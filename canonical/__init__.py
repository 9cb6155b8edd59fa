"""The bottom layer of orderhub: the canonical order model, the error types and the version.

Everything else imports it; it imports nothing of orderhub (import-linter checks this in `make test`).
"""

__version__ = "0.1.0"
