"""The `newral workflow` and `newral demo` command lines parse as documented."""

from __future__ import annotations

from coordinator.cli.admin import build_parser


def test_demo_keeps_bpsw_as_default_and_takes_carmile() -> None:
    args = build_parser().parse_args(["demo"])
    assert (args.which, args.bound) == ("bpsw", None)
    args = build_parser().parse_args(["demo", "carmile", "--bound", "1e14"])
    assert (args.which, args.bound) == ("carmile", "1e14")


def test_workflow_subcommands() -> None:
    args = build_parser().parse_args(["workflow", "submit", "flow.json", "--project", "carmile"])
    assert (args.action, args.file, args.project) == ("submit", "flow.json", "carmile")
    for action in ("status", "graph", "retry", "cancel"):
        args = build_parser().parse_args(["workflow", action, "7"])
        assert (args.action, args.id) == (action, 7)
