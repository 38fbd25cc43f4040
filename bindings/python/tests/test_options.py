"""Session options: timeouts, TLS with a custom CA, reconnect states."""

import os
import shutil
import subprocess
import threading

import pytest

import libqix


def test_call_timeout(start_sim):
    sim = start_sim("--calc-delay-ms", "3000")
    with libqix.connect(sim.url(), timeout_call_ms=100) as s:
        doc = s.open_doc("demo")
        with pytest.raises(libqix.CallTimeoutError) as e:
            doc.evaluate("Sum(Sales)")
        assert e.value.retriable
        assert isinstance(e.value, TimeoutError)


def _certs(d):
    o = shutil.which("openssl")
    if not o:
        pytest.skip("openssl is missing")

    def run(*args):
        subprocess.run([o, *args], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=py-ca", "-keyout",
        f"{d}/ca.key", "-out", f"{d}/ca.pem")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", f"{d}/server.key", "-out",
        f"{d}/server.csr")
    with open(f"{d}/ext.cnf", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-days", "2", "-in", f"{d}/server.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
        "-CAcreateserial", "-extfile", f"{d}/ext.cnf", "-out", f"{d}/server.pem")


def test_tls_with_custom_ca(start_sim, tmp_path):
    _certs(tmp_path)
    sim = start_sim("--tls-cert", f"{tmp_path}/server.pem", "--tls-key", f"{tmp_path}/server.key")
    assert sim.base.startswith("wss://")
    with libqix.connect(sim.url(), tls_ca_file=f"{tmp_path}/ca.pem") as s:
        assert s.open_doc("demo").evaluate("1+1") == "2"
    with pytest.raises(libqix.TlsError):  # the system's CAs do not know the test CA
        libqix.connect(sim.url(), timeout=10)


def test_reconnect_states(start_sim):
    sim = start_sim("--close-code", "4003", "--close-after-ms", "500")
    states = []
    resumed = threading.Event()

    def on_state(state, code, reason):
        states.append((state, code))
        if state == "resumed":
            resumed.set()

    with libqix.connect(sim.url(), reconnect="resume", reconnect_initial_delay_ms=50) as s:
        s.on_state(on_state)
        doc = s.open_doc("demo")
        assert resumed.wait(60)
        assert ("suspended", 4003) in states
        assert doc.evaluate("1+1") == "2"  # the same Doc handle works after the resume


def test_set_io_spin(start_sim):
    # libqix checks the range (0 to 1000000): its error comes back as InvalidArgumentError.
    for bad in (-1, 1_000_001, 2**40):
        with pytest.raises(libqix.InvalidArgumentError):
            libqix.set_io_spin(bad)
    with pytest.raises(TypeError):
        libqix.set_io_spin(1.5)
    sim = start_sim()
    try:
        for us in (0, 1_000_000, 50):  # never polls, polls up to a second, the default: calls go on alike
            libqix.set_io_spin(us)
            with libqix.connect(sim.url()) as s:
                doc = s.open_doc("demo")
                assert [doc.evaluate(f"{i}+1") for i in range(3)] == ["1", "2", "3"]
    finally:
        env = os.environ.get("QIX_IO_SPIN_US", "")
        libqix.set_io_spin(int(env) if env.isdigit() and int(env) <= 1_000_000 else 50)  # the default again
