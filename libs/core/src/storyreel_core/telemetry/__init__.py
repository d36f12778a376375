"""Traces (OpenTelemetry) and metrics (Prometheus) for every StoryReel process.

One trace follows a render from the gateway's REST request through gRPC calls and JetStream
job messages to the workers' spans; one Prometheus registry per process holds the metrics of
every service running in it. Tracing stays off until `tracing.configure_tracing` is given
somewhere to send spans; the hooks are always installed and cost next to nothing while off.

Modules: `tracing` (the process's tracer provider), `propagation` (trace context in NATS
headers), `jobs` (the job span, job duration, task transitions), `rpc` (gRPC interceptors),
`asgi` (the gateway's request histogram), `metrics` (the metric objects and their endpoints).
This package imports nothing at the top so the bus and rpc modules can depend on its parts
without import cycles.
"""
