"""`serve` (the HTTP API on one machine, through the very Lambda handler) and `results` (what
waits in the embedded queue)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .common import EXIT_VALID, settings_of

if TYPE_CHECKING:
    from ..results.queues import QueuedResult


def command_serve(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..handlers.local_server import make_server
    from ..handlers.root import Services

    settings = settings_of(args)
    if args.queue_url:
        settings = replace(settings, results_queue_url=args.queue_url)
    if args.text_budget is not None:
        settings = replace(settings, text_budget_seconds=args.text_budget)
    if args.read_timeout is not None:
        settings = replace(settings, read_timeout_seconds=args.read_timeout)
    services = Services(settings)
    if not services.tokens():
        print(
            "manifest-validate: warning: no API token configured "
            "(set MANIFEST_VALIDATION_API_TOKENS); every validation request will get 401",
            file=sys.stderr,
        )
    server = make_server(args.host, args.port, services)
    host, port = str(server.server_address[0]), int(server.server_address[1])
    print(f"serving on http://{host}:{port}/v1/ (docs at /v1/docs); Ctrl-C stops", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return EXIT_VALID


def command_results(args: argparse.Namespace) -> int:
    from ..results.queues import LocalResultQueue

    queue = LocalResultQueue(settings_of(args).state_dir)
    items = queue.pending(args.limit)
    sys.stdout.write(render_pending(items, args.format, total=queue.count()))
    if args.acknowledge and items:
        queue.acknowledge(item.sequence for item in items)
    return EXIT_VALID


def render_pending(
    items: Sequence[QueuedResult], output_format: str = "text", *, total: int | None = None
) -> str:
    """Pending results: `text`, one aligned line per message (sequence, enqueued_at, manifest,
    status, short id) and a count line (`total`, from `LocalResultQueue.count`, adds "of M"
    when the list was limited); `json`, a list of objects with the full body, for `jq`."""
    import json
    from datetime import UTC

    if output_format == "json":
        return json.dumps([item.to_json() for item in items], indent=2, sort_keys=True) + "\n"
    if output_format != "text":
        raise ValueError(f"unknown output format: {output_format!r}")
    rows = [
        (
            str(item.sequence),
            item.enqueued_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            item.manifest,
            item.status or "-",
            item.id[:12],
        )
        for item in items
    ]
    widths = [max((len(row[column]) for row in rows), default=0) for column in range(5)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    shown = len(items)
    count = f"{shown} pending result{'s' if shown != 1 else ''}"
    if total is not None and total > shown:
        count = f"{shown} of {total} pending results"
    lines.append(count)
    return "\n".join(lines) + "\n"
