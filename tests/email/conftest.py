"""Real mail servers for the e-mail tests: aiosmtpd (SMTP) in-process, and Debian's dovecot (IMAP).

Both listen on 127.0.0.1 on a free port; dovecot runs from a throwaway config in a temp dir (no change
to /etc) with one passwd-file user whose Maildir the tests write into directly.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from saleor_support_plugin.events import RULE, Actor
from saleor_support_plugin.models import Case, CaseReason, CaseRule, CaseSource, Installation
from saleor_support_plugin.services.cases import case_open
from tests.conftest import make_installation

USERS_PER_SERVER = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SmtpRecorder:
    """aiosmtpd handler: keeps what it received; answers 550 for addresses in ``refuse``."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd hook)
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1; Django's SMTP backend is pointed at it."""
    from aiosmtpd.controller import Controller

    recorder = SmtpRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "Shop Support <support@shop.example.com>"
    settings.SUPPORT_REPLY_DOMAIN = "reply.shop.example.com"
    try:
        yield recorder
    finally:
        controller.stop()


@pytest.fixture
def other_installation(db) -> Installation:
    return make_installation(api_url="https://other-shop.example.org/graphql/", app_id="QXBwOjk=")


def open_rule_case(
    installation: Installation,
    *,
    rule: str = CaseRule.ORDER_PAYMENT_FAILED,
    customer_email: str = "ana@example.com",
    customer_name: str = "Ana",
    language_code: str = "EN",
    order_number: str = "1042",
) -> Case:
    return case_open(
        installation=installation,
        subject=f"Payment failed on order {order_number}",
        reason=CaseReason.PAYMENT_ISSUE,
        source=CaseSource.AUTO,
        actor=RULE,
        rule=rule,
        customer_email=customer_email,
        customer_name=customer_name,
        order_saleor_id=f"T3JkZXI6{order_number}",
        order_number=order_number,
        value_at_risk=Decimal("49.9"),
        currency="EUR",
        language_code=language_code,
    )


def open_staff_case(installation: Installation, *, customer_email: str = "ana@example.com") -> Case:
    return case_open(
        installation=installation,
        subject="Where is my parcel?",
        actor=Actor.staff(email="agent@shop.example.com"),
        customer_email=customer_email,
        first_message="Hello, my parcel has not arrived.",
    )


@dataclass
class ImapUser:
    username: str
    password: str
    maildir: Path
    mail_uid: int
    mail_gid: int
    _counter: int = 0

    def deliver(self, raw: bytes, *, seen: bool = False) -> None:
        """Drop a message into the user's Maildir the way an MDA does (write in tmp/, rename into place)."""
        self._counter += 1
        name = f"{time.time_ns()}.M{self._counter}P{os.getpid()}.test"
        tmp = self.maildir / "tmp" / name
        tmp.write_bytes(raw)
        os.chown(tmp, self.mail_uid, self.mail_gid)
        tmp.rename(self.maildir / "cur" / f"{name}:2,S" if seen else self.maildir / "new" / name)


@dataclass
class Dovecot:
    port: int
    root: Path
    mail_uid: int
    mail_gid: int
    _users: int = 0

    def user(self) -> ImapUser:
        """A fresh IMAP user with an empty INBOX (UIDs start at 1)."""
        self._users += 1
        if self._users > USERS_PER_SERVER:
            raise RuntimeError("raise USERS_PER_SERVER")
        maildir = self.root / "home" / f"shop{self._users}" / "Maildir"
        return ImapUser(f"shop{self._users}", f"secret-{self._users}", maildir, self.mail_uid, self.mail_gid)

    def create_users(self) -> None:
        # All users exist before dovecot starts: it notices passwd-file changes only by mtime (1 s resolution).
        lines = []
        for number in range(1, USERS_PER_SERVER + 1):
            maildir = self.root / "home" / f"shop{number}" / "Maildir"
            for path in (maildir.parent, maildir, *(maildir / sub for sub in ("new", "cur", "tmp"))):
                path.mkdir(parents=True)
                os.chown(path, self.mail_uid, self.mail_gid)
            lines.append(f"shop{number}:{{PLAIN}}secret-{number}\n")
        (self.root / "passwd").write_text("".join(lines))


_DOVECOT_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = support-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
{users}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def _mail_owner() -> tuple[int, int, str]:
    """Dovecot refuses to access mail as root; as root we store mail as ``nobody``."""
    if os.geteuid() != 0:
        user = pwd.getpwuid(os.geteuid())
        login = f"default_login_user = {user.pw_name}\ndefault_internal_user = {user.pw_name}"
        return user.pw_uid, user.pw_gid, login + f"\nfirst_valid_uid = {user.pw_uid}"
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid, ""


def _wait_listening(port: int, proc: subprocess.Popen, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                return sock.recv(64).startswith(b"* OK")
        except OSError:
            time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def dovecot():
    """One dovecot per test module; each test takes its own ``dovecot.user()``."""
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not os.path.exists(binary):
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd; .ci/services.sh does it)")
    # A short path: dovecot's unix sockets live under base_dir and must fit in sun_path.
    root = Path(tempfile.mkdtemp(prefix="dovecot-"))
    os.chmod(root, 0o755)
    uid, gid, users = _mail_owner()
    port = free_port()
    (root / "home").mkdir()
    os.chown(root / "home", uid, gid)
    server = Dovecot(port=port, root=root, mail_uid=uid, mail_gid=gid)
    server.create_users()
    conf = root / "dovecot.conf"
    conf.write_text(_DOVECOT_CONF.format(root=root, port=port, uid=uid, gid=gid, users=users))
    proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        if not _wait_listening(port, proc):
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            output = proc.stdout.read(2000).decode(errors="replace") if proc.poll() is not None else ""
            pytest.skip(f"dovecot did not start on 127.0.0.1:{port}: {log[-500:]}{output}")
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)
