"""extract stage of formdesk."""
