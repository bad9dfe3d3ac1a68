"""Market data without I/O: the seeded synthetic market and the data-quality report."""
