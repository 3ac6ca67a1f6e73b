"""The hallway every outside AI call goes through: one HTTP client base (timeouts, retries honouring
Retry-After, a circuit breaker per provider, a response-size cap) and one error family."""
