"""AI providers: the model ports, the call layer around them, one adapter module per vendor."""
