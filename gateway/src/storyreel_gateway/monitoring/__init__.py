"""Health of the gateway's dependencies, task metrics, alert rules over them."""
