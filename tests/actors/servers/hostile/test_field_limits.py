"""A megabyte in one string is refused by `sharesim serve` in one log line, and nothing is kept."""

from __future__ import annotations

import contextlib
import io
from contextlib import ExitStack
from pathlib import Path

from protocol import Channel, RunReply, TaskError, TaskErrorKind, UserId, encode, sharer
from protocol.runs import Execution
from protocol.tasks import CreateRun
from scenarios.cli import build_parser
from scenarios.cli.serve_limits import session_limits, task_limits

from .outside import close_code, exchange, in_thread, open_client, receive, share
from .served import serve

#: A string just under the 1 MiB a frame may hold.
MEGABYTE = 1_000_000


def _serve_help() -> str:
    with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
        build_parser().parse_args(["serve", "--help"])
    return out.getvalue()


def test_the_string_and_run_limits_are_options_with_their_defaults_in_help() -> None:
    parser = build_parser()
    args = parser.parse_args(["serve"])
    assert session_limits(args).max_field_chars == 256
    assert (task_limits(args).max_runs, task_limits(args).max_field_chars) == (20_000, 1024)
    help_text = _serve_help()
    text = " ".join(help_text.split())
    assert "--max-field-chars N longest string the session server keeps" in text
    assert "(default: 256)" in text
    assert "--max-runs N runs the task server holds" in text
    assert "(default: 20000)" in text
    assert "(default: 1024)" in text
    assert "--max-principal-runs N runs one principal owns" in text
    assert "(default: a quarter of --max-runs)" in text
    assert task_limits(args).max_principal_runs == 5000
    chosen = parser.parse_args(["serve", "--max-runs", "100", "--max-principal-runs", "30"])
    assert task_limits(chosen).max_principal_runs == 30


async def test_an_overlong_user_id_is_refused_with_1009_and_one_line(tmp_path: Path) -> None:
    async with serve(tmp_path) as served:

        def oversized_share() -> tuple[object, int | None]:
            with open_client(f"{served.session_base}/sessions/create") as ws:
                init = sharer.Initialize(sharer.InitPayload(UserId("u" * MEGABYTE)))
                ws.send(encode(init))
                answer = receive(ws, Channel.SHARER_DOWN)
                return answer, close_code(ws)

        answer, code = await in_thread(oversized_share)
        assert isinstance(answer, sharer.FailedToInitializeSession)
        assert code == 1009
        # The server goes on serving.
        with ExitStack() as clients:
            _, created = await in_thread(lambda: share(served.session_base, clients))
            await in_thread(clients.close)
        assert created.session_id
    [line] = served.log_lines("field_too_long")
    assert "chars=1000000" in line
    assert "limit=256" in line
    assert "peer='127.0.0.1:" in line


async def test_an_overlong_title_is_refused_and_the_link_stays(tmp_path: Path) -> None:
    async with serve(tmp_path, "--principal", "p", "--max-runs", "1") as served:

        def talk() -> list[object]:
            with open_client(served.task_url("p")) as ws:
                return [
                    exchange(ws, CreateRun(1, "t" * MEGABYTE, Execution.LOCAL), Channel.TASKS),
                    exchange(ws, CreateRun(2, "fits", Execution.LOCAL), Channel.TASKS),
                    exchange(ws, CreateRun(3, "one too many", Execution.LOCAL), Channel.TASKS),
                ]

        too_long, created, too_many = await in_thread(talk)
    assert isinstance(too_long, TaskError)
    assert (too_long.request_id, too_long.kind) == (1, TaskErrorKind.INVALID)
    assert too_long.message == "title is 1000000 characters; the task server accepts at most 1024"
    assert isinstance(created, RunReply)
    assert created.run.title == "fits"
    assert isinstance(too_many, TaskError)
    assert too_many.message == "the task server holds its limit of 1 runs; no more can be created"
    refused = served.log_lines("request_refused")
    assert len(refused) == 2
    assert all(len(line) < 1000 for line in refused)


async def test_one_principal_fills_only_its_share_of_the_runs(tmp_path: Path) -> None:
    options = ("--principal", "greedy", "--principal", "other", "--max-runs", "8")
    async with serve(tmp_path, *options) as served:

        def create(principal: str, count: int) -> list[object]:
            with open_client(served.task_url(principal)) as ws:
                return [
                    exchange(ws, CreateRun(n, f"run {n}", Execution.LOCAL), Channel.TASKS)
                    for n in range(count)
                ]

        greedy = await in_thread(lambda: create("greedy", 5))
        other = await in_thread(lambda: create("other", 2))
    # A quarter of --max-runs by default.
    assert [isinstance(reply, RunReply) for reply in greedy] == [True, True, False, False, False]
    assert greedy[2:] == [
        TaskError(
            n, TaskErrorKind.INVALID, "greedy owns its limit of 2 runs; no more can be created"
        )
        for n in (2, 3, 4)
    ]
    assert all(isinstance(reply, RunReply) for reply in other)
