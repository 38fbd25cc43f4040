"""Fixtures of the libqix pytest suite: the simulator (qix-engine-sim, path in QIX_ENGINE_SIM) started on
port 0; its `listening on ws://HOST:PORT` line gives the URL."""

import os
import subprocess

import pytest


class Sim:
    def __init__(self, *args):
        exe = os.environ["QIX_ENGINE_SIM"]
        self.proc = subprocess.Popen([exe, "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise RuntimeError(f"qix-engine-sim did not start: {line!r} {self.proc.stderr.read()!r}")
        self.base = line[len("listening on "):]

    def url(self, app="demo"):
        return f"{self.base}/app/{app}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


@pytest.fixture(scope="module")
def sim():
    s = Sim()
    yield s
    s.stop()


@pytest.fixture
def start_sim():
    """A factory of simulators with flags; each is stopped after the test."""
    sims = []

    def start(*args):
        s = Sim(*args)
        sims.append(s)
        return s

    yield start
    for s in sims:
        s.stop()
