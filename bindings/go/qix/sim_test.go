package qix_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests run against the engine simulator (qix-engine-sim) over real loopback sockets. CTest sets
// QIX_ENGINE_SIM to the executable; run by hand with
//
//	QIX_ENGINE_SIM=/path/to/build/tools/engine-sim/qix-engine-sim go test ./...
var simPath = os.Getenv("QIX_ENGINE_SIM")

// shared is the simulator most tests use (default flags), started by TestMain.
var shared *simulator

// holdingCalculations are simulator flags: layouts, data pages and expressions are answered only after an
// hour, so such calls stay pending until the test ends them (a cancel, a close, a kill, or a CancelRequest
// naming them, which the simulator answers at once with error 15 "Request aborted"). Other calls are not
// delayed.
var holdingCalculations = []string{"--calc-delay-ms", "3600000"}

// patience is how long a test waits for an event that should come before it fails: a hang guard, never a
// performance bound (nothing asserts that an event came sooner than this).
const patience = 20 * time.Second

func TestMain(m *testing.M) {
	if simPath == "" {
		fmt.Fprintln(os.Stderr, "qix tests: set QIX_ENGINE_SIM to the qix-engine-sim executable")
		os.Exit(2)
	}
	var err error
	shared, err = startSimulator()
	if err != nil {
		fmt.Fprintln(os.Stderr, "qix tests:", err)
		os.Exit(2)
	}
	code := m.Run()
	shared.stop()
	os.Exit(code)
}

// simulator is one qix-engine-sim process.
type simulator struct {
	cmd  *exec.Cmd
	base string // ws://127.0.0.1:PORT
}

// startSimulator starts qix-engine-sim on a free port with the given extra flags and waits for its
// "listening on ws://HOST:PORT" line.
func startSimulator(flags ...string) (*simulator, error) {
	cmd := exec.Command(simPath, append([]string{"--port", "0"}, flags...)...)
	cmd.Stderr = os.Stderr
	// A test binary killed by a timeout must not leave simulators behind (Linux).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		l, _ := r.ReadString('\n')
		line <- strings.TrimSpace(l)
		_, _ = r.WriteTo(devNull{}) // keep draining so the simulator never blocks on stdout
	}()
	select {
	case l := <-line:
		if !strings.HasPrefix(l, "listening on ws://") {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, fmt.Errorf("qix-engine-sim said %q", l)
		}
		return &simulator{cmd: cmd, base: strings.TrimPrefix(l, "listening on ")}, nil
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("qix-engine-sim did not start")
	}
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }

// startSim starts a dedicated simulator for one test, stopped when the test ends.
func startSim(t *testing.T, flags ...string) *simulator {
	t.Helper()
	s, err := startSimulator(flags...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	return s
}

// url is the address of app on this simulator.
func (s *simulator) url(app string) string { return s.base + "/app/" + app }

func (s *simulator) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
}

// kill ends the simulator abruptly (no WebSocket close frame).
func (s *simulator) kill() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// testContext is a context bounded well below CTest's timeout, so that a hang fails one test.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
