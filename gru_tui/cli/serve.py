"""`gru-tui serve ssh` and `gru-tui serve web`: the app for a whole class."""

from __future__ import annotations

from typing import Annotated

import typer

# Options after `--` go to every student's app: `gru-tui serve ssh -- --preset remember`.
PASSTHROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}
HostOpt = Annotated[str, typer.Option("--host", help="The address to listen on.")]
# A lesson (SPEC §13), the same for both servers.
PresentOpt = Annotated[bool, typer.Option(
    "--present", help="This terminal becomes the teacher's app, and every student's app "
    "follows it; f in a student's app breaks away and rejoins. The server's log goes to "
    "--log.")]
RecordOpt = Annotated[str | None, typer.Option(
    "--record", metavar="FILE.jsonl", help="With --present: record the lesson (gru-tui "
    "replay FILE.jsonl plays it back).")]
RelayOpt = Annotated[str | None, typer.Option(
    "--relay", metavar="redis://…", help="With --present: publish the lesson through Redis "
    "pub/sub, redis://\\[:PASSWORD@]HOST\\[:PORT]\\[/DB], for servers started with --follow. "
    "The "
    "password may come from $GRU_TUI_REDIS_PASSWORD instead.")]
FollowOpt = Annotated[str | None, typer.Option(
    "--follow", metavar="redis://…", help="Every student here follows the teacher of the "
    "server that publishes to this Redis with --relay.")]
LogOpt = Annotated[str | None, typer.Option(
    "--log", metavar="FILE", help="With --present: the server's log. \\[default: "
    "~/.local/state/gru-tui/serve-DATE.log]")]


def _lesson(ctx_args: list[str], present: bool, record: str | None, relay: str | None,
            follow: str | None, log: str | None):
    """The server's app options, checked, and the lesson (None without one)."""
    from gru_tui.serve.lesson import LessonOptions
    from gru_tui.serve.shared import checked_app_args

    app_args = checked_app_args(ctx_args)
    options = LessonOptions(present=present, record=record, relay=relay, follow=follow,
                            log=log)
    return app_args, options.checked(app_args)
WeightsDirOpt = Annotated[str | None, typer.Option(
    "--weights-dir", metavar="DIR",
    help="A folder of weight files students may open with l (besides the shipped examples); "
         "no other file of this machine is offered. \\[default: the examples only]")]


def serve_ssh(
    ctx: typer.Context,
    host: HostOpt = "0.0.0.0",
    port: Annotated[int, typer.Option("--port", help="The port to listen on (0: any free one).")
                    ] = 2222,
    authorized_keys: Annotated[str | None, typer.Option(
        "--authorized-keys", metavar="FILE",
        help="The students' public keys, one a line as in id_ed25519.pub; re-read when it "
             "changes. Default: ~/.ssh/authorized_keys of the user running the server.")] = None,
    open_access: Annotated[bool, typer.Option(
        "--open", help="Let ANYONE who reaches the port in, without a key.")] = False,
    host_key: Annotated[str | None, typer.Option(
        "--host-key", metavar="FILE",
        help="The server's private key, made there (ed25519, mode 0600) if missing. Default: "
             "$XDG_DATA_HOME/gru-tui/ssh_host_ed25519_key (~/.local/share/...).")] = None,
    max_sessions: Annotated[int, typer.Option(
        "--max-sessions", metavar="N", help="Sessions at once; the next one is asked to "
                                            "come back later.")] = 40,
    idle_timeout: Annotated[float, typer.Option(
        "--idle-timeout", metavar="SECONDS",
        help="End a session after this long without a key pressed (0: never).")] = 3600,
    present: PresentOpt = False,
    record: RecordOpt = None,
    relay: RelayOpt = None,
    follow: FollowOpt = None,
    log: LogOpt = None,
    weights_dir: WeightsDirOpt = None,
) -> None:
    """An SSH server: every connection gets its own app in its own terminal.

    Options after -- go to every student's app, e.g. `gru-tui serve ssh -- --preset remember`.
    """
    from pathlib import Path

    from gru_tui.serve.shared import checked_weights_dir
    from gru_tui.serve.ssh import run_ssh_server

    app_args, lesson = _lesson(ctx.args, present, record, relay, follow, log)
    run_ssh_server(host=host, port=port, app_args=app_args,
                   authorized_keys=Path(authorized_keys) if authorized_keys else None,
                   open_access=open_access, host_key=Path(host_key) if host_key else None,
                   max_sessions=max_sessions, idle_timeout=idle_timeout, lesson=lesson,
                   weights_dir=checked_weights_dir(weights_dir))


def serve_web(
    ctx: typer.Context,
    host: HostOpt = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535,
                                      help="The port to listen on.")] = 8000,
    public_url: Annotated[str | None, typer.Option(
        "--public-url", metavar="URL",
        help="The address students' browsers use when it is not http://HOST:PORT, e.g. "
             "behind a proxy: https://gru.example.org. \\[default: the address each browser "
             "used]")] = None,
    max_sessions: Annotated[int | None, typer.Option(
        "--max-sessions", min=1, metavar="N",
        help="The most tabs served at once; more get a 'class is full' page. "
             "\\[default: no limit]")] = None,
    present: PresentOpt = False,
    record: RecordOpt = None,
    relay: RelayOpt = None,
    follow: FollowOpt = None,
    log: LogOpt = None,
    weights_dir: WeightsDirOpt = None,
) -> None:
    """Serve the app to web browsers, one session (its own app process) per tab.

    There is no login: it listens on 127.0.0.1 unless --host says otherwise;
    use --host 0.0.0.0 only on a network you trust. Options after -- go to
    every student's app: `gru-tui serve web --host 0.0.0.0 -- --preset remember`.
    """
    from gru_tui.serve.shared import checked_weights_dir
    from gru_tui.serve.web import run_web_server

    app_args, lesson = _lesson(ctx.args, present, record, relay, follow, log)
    run_web_server(host=host, port=port, app_args=app_args, public_url=public_url,
                   max_sessions=max_sessions, lesson=lesson,
                   weights_dir=checked_weights_dir(weights_dir))
