"""Refusals the services raise for what a request asks (issue 11): each a FormdeskError
carrying its HTTP status and a Chinese message, answered by the API's one handler
(api/errors.py) as {"reason": <message>, "status": n}.  Not found and "not in a state
that allows it" are the store's own NotFoundError (404) and ConflictError (409) from
`formdesk.model.errors`."""

from __future__ import annotations

from formdesk.model.errors import FormdeskError
from formdesk.store.record_actions import MAX_REASON


class Refused(FormdeskError):
    """A value in the request cannot be used as given (a station that does not exist, a
    correction the field does not take, too many pages to print at once …).  HTTP 422."""

    status = 422


class NotAllowed(FormdeskError):
    """The user's role may not do this (e.g. only the back office sets a record's
    station); the message says who may.  HTTP 403."""

    status = 403


class FileTooLarge(FormdeskError):
    """An uploaded file over its size limit, refused before any process reads it (the
    message names the file, its size in MB and the limit).  HTTP 413."""

    status = 413


class UnsupportedFile(FormdeskError):
    """An uploaded file of a kind this action does not take (by its name).  HTTP 415."""

    status = 415


class Unavailable(FormdeskError):
    """The server could not do the work just now (a render process out of time or
    memory); the message says what to try.  HTTP 503."""

    status = 503


class NotYourStation(FormdeskError):
    """A station user asking to act for another station (print or upload for it): the
    message names the user's own station.  HTTP 403."""

    status = 403


def stated_reason(reason: str | None, asking: str, label: str = "原因") -> str:
    """The reason a person gave for voiding or discarding something, trimmed: Refused
    (422) with `asking` (``请说明作废的原因``) when blank, and naming `label` when over
    MAX_REASON (200) characters — the store keeps the reason on the event it writes."""
    why = (reason or "").strip()
    if not why:
        raise Refused(asking)
    if len(why) > MAX_REASON:
        raise Refused(f"{label}不能超过 {MAX_REASON} 个字")
    return why
