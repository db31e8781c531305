"""The SSH server's rules on their own, without a client: which authorized_keys lines are
loaded and what their options do, and the gate in front of the login."""

from __future__ import annotations

import calendar
import time

import pytest

asyncssh = pytest.importorskip("asyncssh", reason="asyncssh runs the server (the [serve] extra)")

from gru_tui.serve.ssh import AuthorizedKeys, LoginGate  # noqa: E402


def public_line(comment: str) -> tuple[object, str]:
    """A fresh public key (as a client presents it) and its authorized_keys line."""
    line = asyncssh.generate_private_key("ssh-ed25519", comment=comment) \
        .export_public_key().decode().strip()
    return asyncssh.import_public_key(line), line


def test_options_are_honoured_or_the_line_is_refused(tmp_path, capsys):
    keys = {name: public_line(name) for name in
            ("plain", "expired", "later", "utc", "no-pty", "restrict", "restrict-pty", "from",
             "command", "ca", "verify", "unknown", "bad-time")}
    options = {"plain": "", "expired": 'expiry-time="20000101"',
               "later": 'expiry-time="29991231"', "utc": 'expiry-time="203001011200Z"',
               "no-pty": "no-pty", "restrict": "restrict", "restrict-pty": "restrict,pty",
               "from": 'from="10.0.0.0/8",no-port-forwarding,no-agent-forwarding',
               "command": 'command="/bin/sh"', "ca": "cert-authority",
               "verify": "verify-required", "unknown": "frobnicate",
               "bad-time": 'expiry-time="2000"'}
    path = tmp_path / "authorized_keys"
    path.write_text("".join(f"{options[name]} {line}\n" for name, (_, line) in keys.items()))
    authorized = AuthorizedKeys(path)
    authorized.load()
    logged = capsys.readouterr().err
    for name in ("command", "ca", "verify", "unknown", "bad-time"):
        assert f"({name}) refused" in logged, name
        assert authorized.match(keys[name][0], "127.0.0.1", "127.0.0.1") is None
    assert authorized.count == 8
    match = {name: authorized.match(keys[name][0], "127.0.0.1", "127.0.0.1")
             for name in ("plain", "expired", "later", "utc", "no-pty", "restrict",
                          "restrict-pty")}
    assert [name for name, entry in match.items() if entry.expired] == ["expired"]
    assert match["expired"].expires == time.mktime((2000, 1, 1, 0, 0, 0, 0, 0, -1))
    assert match["utc"].expires == calendar.timegm((2030, 1, 1, 12, 0, 0))  # Z: UTC
    assert match["plain"].expires is None
    assert [name for name, entry in match.items() if not entry.pty] == ["no-pty", "restrict"]
    assert authorized.match(keys["from"][0], "127.0.0.1", "127.0.0.1") is None  # from=
    assert authorized.match(keys["from"][0], "10.1.2.3", "10.1.2.3") is not None


def test_the_login_gate_caps_waiting_connections_and_logs_a_flood_once(capsys):
    gate = LoginGate(total=5, per_address=2)
    assert gate.admit("10.0.0.1") and gate.admit("10.0.0.1")
    assert not gate.admit("10.0.0.1")  # per address
    assert gate.admit("10.0.0.2") and gate.admit("10.0.0.3") and gate.admit("10.0.0.4")
    assert not gate.admit("10.0.0.5")  # in all
    for _ in range(100):
        assert not gate.admit("10.0.0.1")
    logged = capsys.readouterr().err
    assert logged.count("refusing connections") == 1
    assert "2 from 10.0.0.1 and 2 in all are waiting to log in" in logged
    gate.leave("10.0.0.1")
    assert gate.admit("10.0.0.5")  # a place is free again
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"):
        gate.leave(address)
    assert "refused 102 connections while the limit was reached" in capsys.readouterr().err
    assert gate.waiting == {} and gate.refused == 0
