"""The local world of a test: one moto server, the proxy and the git server for the whole run
(`LocalAws`), and per test a fresh stack on them (`World`): moto reset, resources made from the
template, a manifests repository, the poller, the results reader and GitHub's sender.

Used by the pytest fixtures (conftest.py) and by benchmarks/bench_delivery.py alike.
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitserver import GitServer, serve_git

from . import doors
from .clock import Clock
from .github import Sender
from .manifests import ManifestsRepo, Upstream, make_upstream
from .poller import LambdaPoller
from .proxy import AwsProxy
from .reader import ResultsReader
from .stack import UNSET, Stack

MOTO_SERVER_PACKAGES = "flask, flask-cors (moto[server])"


class MotoServerUnavailable(RuntimeError):
    pass


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's threaded server on 127.0.0.1, a port of its own; its base URL."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as error:  # flask and flask-cors come with moto[server] only
        raise MotoServerUnavailable(
            f"moto's server mode needs {MOTO_SERVER_PACKAGES}: {error}"
        ) from error
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def reset_moto(url: str) -> None:
    """Forget every resource of every service (moto's own reset API)."""
    request = urllib.request.Request(f"{url}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


@dataclass
class LocalAws:
    moto_url: str
    proxy: AwsProxy
    git: GitServer
    upstream: Upstream


@contextmanager
def local_aws(root: Path) -> Iterator[LocalAws]:
    with ExitStack() as stack:
        url = stack.enter_context(moto_server())
        proxy = AwsProxy(url)
        stack.callback(proxy.close)
        served = root / "served"
        served.mkdir(parents=True, exist_ok=True)
        git = stack.enter_context(serve_git(served))
        yield LocalAws(url, proxy, git, make_upstream(git))


@dataclass
class World:
    local: LocalAws
    stack: Stack
    repo: ManifestsRepo
    poller: LambdaPoller
    reader: ResultsReader
    sender: Sender
    patch: pytest.MonkeyPatch
    # every push is delivered twice at once (steps.deliver_push): GitHub redelivered it while
    # the first delivery still ran in its container
    twin_deliveries: bool = False

    @property
    def clock(self) -> Clock:
        return self.stack.clock

    @property
    def proxy(self) -> AwsProxy:
        return self.local.proxy

    @classmethod
    def create(
        cls,
        local: LocalAws,
        patch: pytest.MonkeyPatch,
        *,
        repo: ManifestsRepo | None = None,
        git: GitServer | None = None,
    ) -> World:
        """A fresh stack; `git` serves the manifests repository (another server, faulty say)."""
        reset_moto(local.moto_url)
        local.proxy.reset()
        repo = repo or ManifestsRepo.create(local.git, local.upstream)
        serving = git or local.git
        hosts = ",".join(sorted({local.git.host_port, serving.host_port}))
        stack = Stack.create(
            local.moto_url,
            local.proxy,
            Clock(),
            manifests_repository=serving.repo_url(repo.name),
            insecure_hosts=hosts,
        )
        for name in UNSET:
            patch.delenv(name, raising=False)
        doors.configure(stack.environment(), patch)
        return cls(local, stack, repo, LambdaPoller(stack), ResultsReader(stack), Sender(), patch)

    def serve_manifests_from(self, git: GitServer) -> None:
        """The manifests repository is read through `git` from now on (as if the stack had been
        deployed with that ManifestsRepository): a faulty server, say."""
        self.stack.parameters["ManifestsRepository"] = git.repo_url(self.repo.name)
        self.stack.insecure_hosts = ",".join(sorted({self.local.git.host_port, git.host_port}))
        doors.configure(self.stack.environment(), self.patch)

    def close(self) -> None:
        doors.reset()
