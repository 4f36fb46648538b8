"""Persistence: the SQLAlchemy models, the database handle and the migrations."""
