"""Messages to people: the outbox (one row per message), its delivery through channels, and the catcher."""
