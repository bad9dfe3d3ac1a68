"""Research on the MTF pullback strategy: its parameter sweep and its walk-forward evaluation."""
