"""Command-line front ends: the coordinator server and the admin CLI."""
