package qix_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/libqix/libqix/bindings/go/qix"
)

// A server that does not speak QIX (the wrong port, another WebSocket service) is played by
// qix-engine-sim --not-qix echo|silent|banner. libqix ends the session with ErrProtocol, and the
// message names the server and the problem.

// notQix checks that err is the protocol failure for a server that does not speak QIX at sim.
func notQix(t *testing.T, err error, sim *simulator, what string) *qix.Error {
	t.Helper()
	if !errors.Is(err, qix.ErrProtocol) {
		t.Fatalf("%s: want an ErrProtocol error, got %v", what, err)
	}
	var qerr *qix.Error
	if !errors.As(err, &qerr) {
		t.Fatalf("%s: not a *qix.Error: %T %v", what, err, err)
	}
	if !strings.Contains(qerr.Message, "does not speak the QIX protocol") {
		t.Fatalf("%s: the message does not name the problem: %q", what, qerr.Message)
	}
	if !strings.Contains(qerr.Message, sim.url("demo")) {
		t.Fatalf("%s: the message does not name the server %s: %q", what, sim.url("demo"), qerr.Message)
	}
	return qerr
}

func TestNotQixEchoServer(t *testing.T) {
	sim := startSim(t, "--not-qix", "echo")
	ctx := testContext(t)
	s, err := qix.Dial(ctx, sim.url("demo"))
	if err != nil {
		t.Fatal(err) // the WebSocket upgrade itself succeeds: the server is a WebSocket service
	}
	defer s.Close()

	// A second call in flight: whichever the server echoes first ends the session, and both fail.
	other := make(chan error, 1)
	go func() {
		_, err := s.Call(ctx, "EngineVersion", nil)
		other <- err
	}()
	_, err = s.OpenDoc(ctx, "demo")
	qerr := notQix(t, err, sim, "OpenDoc")
	if !strings.Contains(qerr.Message, "back instead of answering") {
		t.Errorf("the message does not say the request came back: %q", qerr.Message)
	}
	notQix(t, <-other, sim, "the call in flight")

	<-s.Closed()
	if code, reason, ok := s.CloseInfo(); ok {
		t.Logf("closed: %d %q", code, reason)
	}
	// Later calls fail with the same diagnosis, not a bare "closed".
	_, err = s.Call(ctx, "EngineVersion", nil)
	notQix(t, err, sim, "a later call")
}

func TestNotQixSilentServer(t *testing.T) {
	sim := startSim(t, "--not-qix", "silent")
	ctx := testContext(t)
	s, err := qix.Dial(ctx, sim.url("demo"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// Nothing comes back: the session ends timeout.protocol_ms (default 5 s) after the first request.
	start := time.Now()
	_, err = s.OpenDoc(ctx, "demo")
	t.Logf("OpenDoc failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	qerr := notQix(t, err, sim, "OpenDoc")
	if !strings.Contains(qerr.Message, "timeout.protocol_ms") {
		t.Errorf("the message does not name the option: %q", qerr.Message)
	}
	<-s.Closed()
}

func TestNotQixSilentServerWithProtocolTimeoutOption(t *testing.T) {
	sim := startSim(t, "--not-qix", "silent")
	ctx := testContext(t)
	s, err := qix.Dial(ctx, sim.url("demo"), qix.WithOption("timeout.protocol_ms", 300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.OpenDoc(ctx, "demo")
	qerr := notQix(t, err, sim, "OpenDoc")
	if !strings.Contains(qerr.Message, "within 300 ms") {
		t.Errorf("the message does not give the option's value: %q", qerr.Message)
	}
}

func TestNotQixBannerServer(t *testing.T) {
	sim := startSim(t, "--not-qix", "banner")
	ctx := testContext(t)
	// The banner arrives right after the upgrade: the session may end before Dial returns or after.
	s, err := qix.Dial(ctx, sim.url("demo"))
	if err == nil {
		defer s.Close()
		_, err = s.OpenDoc(ctx, "demo")
		t.Logf("Dial succeeded, OpenDoc failed: %v", err)
	} else {
		t.Logf("Dial failed: %v", err)
	}
	qerr := notQix(t, err, sim, "Dial + OpenDoc")
	if !strings.Contains(qerr.Message, "Welcome to the echo-chat service") {
		t.Errorf("the message does not quote the server's frame: %q", qerr.Message)
	}
}
