"""render stage of formdesk."""
