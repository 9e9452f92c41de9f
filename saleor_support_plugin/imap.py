"""Thin IMAP client (imaplib) for polling an inbound mailbox; imaplib's errors never leave this module.

The folder is selected read-only and bodies are fetched with ``BODY.PEEK[]``, so polling never changes
the mailbox (no \\Seen flags): progress is our ``last_uid``, not the server's state.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from saleor_support_plugin.errors import PermanentError, RetryableError, SupportErrorCode

_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_UIDNEXT = re.compile(rb"UIDNEXT (\d+)")
_UID = re.compile(rb"UID (\d+)")


@dataclass(frozen=True, slots=True)
class ImapFolder:
    uid_validity: int
    uid_next: int


def _unavailable(exc: BaseException) -> RetryableError:
    return RetryableError(SupportErrorCode.TEMPORARILY_UNAVAILABLE, f"IMAP: {type(exc).__name__}: {exc}")


@contextmanager
def imap_session(
    *, host: str, port: int, username: str, password: str, use_ssl: bool, timeout: float
) -> Iterator[imaplib.IMAP4]:
    """A logged-in connection, logged out on exit. Wrong credentials → PermanentError; network → Retryable."""
    try:
        if use_ssl:
            conn = imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context(), timeout=timeout)
        else:
            conn = imaplib.IMAP4(host, port, timeout=timeout)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise _unavailable(exc) from exc
    try:
        try:
            conn.login(username, password)
        except imaplib.IMAP4.abort as exc:
            raise _unavailable(exc) from exc
        except imaplib.IMAP4.error as exc:
            raise PermanentError(SupportErrorCode.UNAUTHORIZED, f"IMAP login refused: {exc}") from exc
        yield conn
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise _unavailable(exc) from exc
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            conn.logout()


def _check(status: str, data: list, what: str) -> list:
    if status != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")
        raise PermanentError(SupportErrorCode.INVALID, f"IMAP {what} failed: {detail}")
    return data


def imap_folder_select(conn: imaplib.IMAP4, folder: str) -> ImapFolder:
    """Select ``folder`` read-only; its UIDVALIDITY and UIDNEXT."""
    quoted = '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
    _check(*conn.select(quoted, readonly=True), what=f"SELECT {folder}")
    # SELECT answers "* OK [UIDVALIDITY n]" and "* OK [UIDNEXT n]"; imaplib files them under those codes.
    values = {code: (conn.response(code)[1] or [None])[-1] for code in ("UIDVALIDITY", "UIDNEXT")}
    if None in values.values():
        status, data = conn.status(quoted, "(UIDVALIDITY UIDNEXT)")
        raw = b" ".join(d for d in _check(status, data, "STATUS") if isinstance(d, bytes))
        found = {"UIDVALIDITY": _UIDVALIDITY.search(raw), "UIDNEXT": _UIDNEXT.search(raw)}
        values = {code: match.group(1) if match else b"0" for code, match in found.items()}
    return ImapFolder(uid_validity=int(values["UIDVALIDITY"]), uid_next=int(values["UIDNEXT"]))


def imap_uids_after(conn: imaplib.IMAP4, last_uid: int, *, unseen_only: bool) -> list[int]:
    """UIDs greater than ``last_uid``, ascending (``n:*`` always matches the newest message, so filter)."""
    criteria = ["UID", f"{last_uid + 1}:*"] + (["UNSEEN"] if unseen_only else [])
    data = _check(*conn.uid("SEARCH", *criteria), what="SEARCH")
    uids = {int(token) for token in (data[0] or b"").split()}
    return sorted(uid for uid in uids if uid > last_uid)


def imap_message_fetch(conn: imaplib.IMAP4, uid: int) -> bytes | None:
    """The raw message with this UID, or None if it was expunged meanwhile."""
    data = _check(*conn.uid("FETCH", str(uid), "(UID BODY.PEEK[])"), what="FETCH")
    for item in data:
        if isinstance(item, tuple) and _UID.search(item[0]) and int(_UID.search(item[0]).group(1)) == uid:
            return item[1]
    return None
