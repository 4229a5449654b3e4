"""ingest stage of formdesk."""
