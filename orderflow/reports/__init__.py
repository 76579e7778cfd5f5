"""Reports: how orders flow through a pipeline (funnel) and how long they stay in each stage."""
