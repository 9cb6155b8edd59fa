"""Dagster definitions every API channel shares: per store or seller account a sync asset, job, schedule (the
``PolledAccount`` component); per pushed source its webhook queue (``PushedSource``)."""
