package qix_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/libqix/libqix/bindings/go/qix"
)

// qix.Options: libqix's one options table, as Go sees it.
func TestOptionsDescribeEveryOptionOnce(t *testing.T) {
	all := qix.Options()
	if len(all) < 30 {
		t.Fatalf("only %d options", len(all))
	}
	byName := map[string]qix.OptionInfo{}
	for _, o := range all {
		if _, dup := byName[o.Name]; dup {
			t.Errorf("twice: %s", o.Name)
		}
		if o.Doc == "" {
			t.Errorf("%s: no doc", o.Name)
		}
		byName[o.Name] = o
	}
	call := byName["timeout.call_ms"]
	if call.Type != qix.OptionInt || call.Min != 0 || call.Max != math.MaxInt64 || call.Default != "0" {
		t.Errorf("timeout.call_ms: %+v", call)
	}
	if d, err := strconv.ParseInt(byName["timeout.connect_ms"].Default, 10, 64); err != nil || d <= 0 {
		t.Errorf("timeout.connect_ms default %q", byName["timeout.connect_ms"].Default)
	}
	rc := byName["reconnect"]
	if rc.Type != qix.OptionString || !reflect.DeepEqual(rc.Values, []string{"none", "attach", "resume"}) ||
		rc.Default != "none" {
		t.Errorf("reconnect: %+v", rc)
	}
	if byName["delta"].Type != qix.OptionBool {
		t.Errorf("delta: %+v", byName["delta"])
	}
}

// The description and WithOption's validation are one table: a session opens with every default set back
// explicitly (except the url.* parts, which would describe another URL than the one dialled), and an
// unknown name still fails.
func TestOptionsDefaultsAreAccepted(t *testing.T) {
	sim := startSim(t)
	opts := []qix.Option{}
	for _, o := range qix.Options() {
		if strings.HasPrefix(o.Name, "url") {
			continue
		}
		switch o.Type {
		case qix.OptionInt:
			v, err := strconv.ParseInt(o.Default, 10, 64)
			if err != nil {
				t.Fatalf("%s: default %q", o.Name, o.Default)
			}
			opts = append(opts, qix.WithOption(o.Name, v))
		case qix.OptionBool:
			opts = append(opts, qix.WithOption(o.Name, o.Default == "true"))
		default:
			if o.Default != "" {
				opts = append(opts, qix.WithOption(o.Name, o.Default))
			}
		}
	}
	ctx := context.Background()
	s, err := qix.Dial(ctx, sim.url("demo"), opts...)
	if err != nil {
		t.Fatalf("Dial with every default set: %v", err)
	}
	s.Close()
	if _, err := qix.Dial(ctx, sim.url("demo"), qix.WithOption("no.such.option", 1)); !errors.Is(err, qix.ErrInvalid) {
		t.Fatalf("unknown option: %v", err)
	}
}

// events.poll (callbacks run where the host polls) is refused: libqix's threads deliver the binding's
// events. events.inline is libqix's default (they run on its I/O thread); off, they run on its dispatcher
// threads, which works the same for the binding: calls, blocking and asynchronous, are answered.
func TestEventsPollIsRefused(t *testing.T) {
	sim := startSim(t)
	_, err := qix.Dial(context.Background(), sim.url("demo"), qix.WithOption("events.poll", true))
	if !errors.Is(err, qix.ErrInvalid) || !strings.Contains(err.Error(), "not supported by the Go binding") {
		t.Fatalf("events.poll: %v", err)
	}
	for _, inline := range []bool{true, false} {
		s, err := qix.Dial(context.Background(), sim.url("demo"), qix.WithOption("events.inline", inline))
		if err != nil {
			t.Fatalf("events.inline %v: %v", inline, err)
		}
		g, err := s.Global()
		mustNot(t, "Global", err)
		if _, err := g.EngineVersion(testContext(t)); err != nil {
			t.Fatalf("events.inline %v: EngineVersion: %v", inline, err)
		}
		done := make(chan error, 1)
		if err := g.EngineVersionAsync(func(_ *qix.NxEngineVersion, err error) { done <- err }); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("events.inline %v: EngineVersionAsync: %v", inline, err)
		}
		s.Close()
	}
}

// SetIOSpin sets the poll limit of the binding's libqix context: calls are answered with it at its maximum,
// off and back at the default; out of range is refused.
func TestSetIOSpin(t *testing.T) {
	s := dial(t, shared.url("demo"))
	defer s.Close()
	defer qix.SetIOSpin(50)
	for _, us := range []int{1000000, 0, 50} {
		if err := qix.SetIOSpin(us); err != nil {
			t.Fatalf("SetIOSpin(%d): %v", us, err)
		}
		for i := 0; i < 5; i++ {
			if _, err := s.Call(context.Background(), "EngineVersion", nil); err != nil {
				t.Fatalf("spin %d: %v", us, err)
			}
		}
	}
	for _, us := range []int{-1, 1000001} {
		if err := qix.SetIOSpin(us); !errors.Is(err, qix.ErrInvalid) {
			t.Fatalf("SetIOSpin(%d): %v, want ErrInvalid", us, err)
		}
	}
}
