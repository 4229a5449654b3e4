"""`python -m formdesk.api` runs the formdesk command."""

from .cli import main

main()
