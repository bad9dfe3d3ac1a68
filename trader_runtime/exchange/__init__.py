"""Exchange adapters behind one interface (`port.Exchange`): replay, paper, demo, live (D4)."""
