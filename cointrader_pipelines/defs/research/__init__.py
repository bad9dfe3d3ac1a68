"""Research assets: strategy sweep table, symbol comparison, Monte-Carlo position sizing."""
