"""What the bot knows without a member: FAQ entries (BM25 retrieval) and the stores."""
