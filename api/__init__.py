"""api stage of formdesk."""
