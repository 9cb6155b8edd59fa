"""Sandbox systems that speak the real wire contracts on loopback, for the demo and end-to-end tests."""
