"""The headless agent: attach, lease, run, upload, report. Never imports Qt."""
