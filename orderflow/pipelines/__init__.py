"""Pipelines (order types), their stages, orders and the append-only order timeline."""
