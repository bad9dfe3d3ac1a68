"""Dagster resources: thin ConfigurableResource wrappers that build core adapters from plain fields."""
