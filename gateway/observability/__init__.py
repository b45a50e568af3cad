"""How an operator sees a running gateway: Prometheus metrics, liveness and readiness over HTTP
(`routes`, served by `http_server`), and structured logs without secrets (`redaction`, used by
`gateway.logs`). The modules are imported one by one: this package imports nothing, so the
logging set-up does not pull in the web stack."""
