"""What every purpose-built fault server shares: reading --listen and announcing readiness.

The servers are started by tests that wait for the pid file, so it is written atomically once the
sockets are bound, and removed when the server is told to stop.
"""
import os
import signal
import socket


def parse_listen(text):
    """IP:PORT (IPv6 in brackets) -> (host, port, address family)."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return host, int(port), family


def announce(pidfile):
    """Write our pid to `pidfile` (if given) and exit cleanly, removing it, on SIGTERM or SIGINT."""
    def stop(*_):
        if pidfile:
            try:
                os.unlink(pidfile)
            except FileNotFoundError:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if pidfile:
        tmp = pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.replace(tmp, pidfile)
