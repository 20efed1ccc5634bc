"""systemd's readiness and watchdog protocol (sd_notify), in the few lines it takes.

systemd passes NOTIFY_SOCKET (a unix datagram socket; a name starting with '@' is in the
abstract namespace) and, with WatchdogSec=, WATCHDOG_USEC (and WATCHDOG_PID). The service sends
"READY=1" when it is ready, "WATCHDOG=1" at least every WATCHDOG_USEC, "STATUS=..." for
`systemctl status`, and "STOPPING=1" when it shuts down. See sd_notify(3) and
systemd.service(5). Outside systemd nothing is set and every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from datetime import timedelta

log = logging.getLogger(__name__)


def _address(env: Mapping[str, str]) -> str | None:
    path = env.get("NOTIFY_SOCKET", "")
    if path.startswith("@"):
        return "\0" + path[1:]
    if path.startswith("/"):
        return path
    return None  # unset, or a transport this bot does not speak (e.g. vsock:)


def notify(message: str, env: Mapping[str, str] | None = None) -> bool:
    """Send one notification; True if a notify socket was there to receive it."""
    address = _address(os.environ if env is None else env)
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError as exc:
        log.warning("could not notify systemd: %s", exc.strerror or type(exc).__name__)
        return False
    return True


def watchdog_interval(env: Mapping[str, str] | None = None) -> timedelta | None:
    """How often systemd expects a WATCHDOG=1 (None: no watchdog for this process)."""
    values = os.environ if env is None else env
    usec = values.get("WATCHDOG_USEC", "")
    pid = values.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid != str(os.getpid()):
        return None  # meant for another process (e.g. a parent shell)
    return timedelta(microseconds=int(usec))
