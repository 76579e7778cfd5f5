"""Reacting to order events: the engine that turns events into actions (rules grow here)."""
