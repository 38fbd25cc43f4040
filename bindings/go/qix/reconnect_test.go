package qix_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/libqix/libqix/bindings/go/qix"
)

// Reconnect and resume (docs/reconnect.md): the engine closes every connection (the reconnected ones
// too) with 4003 "engine terminating" about 700 ms after it connects, a resumable drop. With
// reconnect=resume the session comes back on a new connection, the session object is re-created under
// the same *qix.Object, which signals Changed once, and answers GetLayout again.
func TestReconnectResumesAndTheSameObjectAnswersAgain(t *testing.T) {
	sim := startSim(t, "--close-code", "4003", "--close-after-ms", "700")
	ctx := testContext(t) // a hang guard for the whole scenario
	s, err := qix.Dial(ctx, sim.url("demo"),
		qix.WithOption("reconnect", "resume"), qix.WithOption("reconnect.initial_delay_ms", 50))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer s.Close()

	// Inside the first window. A call in flight at a drop fails with ErrConnection (then it is made
	// again); one made while the session is suspended waits for the resume.
	retrying := func(what string, call func() error) {
		t.Helper()
		for attempt := 1; ; attempt++ {
			err := call()
			if err == nil {
				return
			}
			if !errors.Is(err, qix.ErrConnection) || attempt == 5 {
				t.Fatalf("%s: %v", what, err)
			}
		}
	}
	var doc, cube *qix.Object
	retrying("OpenDoc", func() (err error) { doc, err = s.OpenDoc(ctx, "demo"); return })
	retrying("CreateSessionObject", func() (err error) { cube, err = doc.CreateSessionObject(ctx, salesCube); return })
	var first cubeLayout
	retrying("GetLayout", func() error { return getCubeLayout(ctx, cube, &first) })
	if len(first.rows()) == 0 {
		t.Fatalf("no rows in the first layout: %+v", first)
	}

	// After the resume the object signals Changed. GetLayout on it may race with the next drop (~700 ms
	// after each reconnect) and fail with ErrConnection: then wait for the next resume's Changed.
	var again cubeLayout
	var lastRace error
	done := false
	for attempt := 0; attempt < 5 && !done; attempt++ {
		select {
		case <-cube.Changed():
		case <-cube.Closed():
			t.Fatal("the object was closed instead of restored")
		case <-s.Closed():
			code, reason, _ := s.CloseInfo()
			t.Fatalf("the session closed instead of resuming: %d %s", code, reason)
		case <-ctx.Done():
			t.Fatalf("no Changed after a resume in time (last race: %v)", lastRace)
		}
		err := getCubeLayout(ctx, cube, &again)
		switch {
		case err == nil:
			done = true
		case errors.Is(err, qix.ErrConnection):
			lastRace = err
		default:
			t.Fatalf("GetLayout after the resume: %v", err)
		}
	}
	if !done {
		t.Fatalf("no GetLayout after a resume succeeded; last race: %v", lastRace)
	}
	if !reflect.DeepEqual(first.rows(), again.rows()) {
		t.Fatalf("rows after the resume %v, before %v", again.rows(), first.rows())
	}
	select {
	case <-cube.Closed():
		t.Fatal("the object is closed")
	case <-s.Closed():
		t.Fatal("the session is closed")
	default:
	}

	if err := cube.Close(); err != nil {
		t.Fatalf("cube.Close: %v", err)
	}
	if err := doc.Close(); err != nil {
		t.Fatalf("doc.Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitFor(t, s.Closed(), "Closed after Close")
}

func getCubeLayout(ctx context.Context, o *qix.Object, l *cubeLayout) error {
	raw, err := o.GetLayout(ctx)
	if err != nil {
		return err
	}
	*l = cubeLayout{}
	return json.Unmarshal(raw, l)
}
