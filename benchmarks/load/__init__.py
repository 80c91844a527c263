"""The load generators and what they send: Locust, wrk, request bodies, parity probes."""
