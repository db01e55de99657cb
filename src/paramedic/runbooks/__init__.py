"""Runbooks: which checks answer a symptom, in what order, and the engine that runs them."""
