"""The coordinator's domain logic: plain Python over a database session, no HTTP."""
