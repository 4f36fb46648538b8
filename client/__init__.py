"""The volunteer client: agent/ is the headless core (no Qt), taskapps/ the code
that runs inside the sandboxed task process."""
