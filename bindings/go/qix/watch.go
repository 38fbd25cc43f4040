package qix

import (
	"encoding/json"
	"sync"
)

// LayoutUpdate is one delivery of a Watch: the object's fresh layout, or the failure of its fetch.
type LayoutUpdate struct {
	Layout json.RawMessage // the qLayout (nil when Err is set)
	Err    error           // an *Error when the fetch failed; the watch goes on
}

// Decode decodes the layout into v, e.g. a *GenericObjectLayout; it returns Err when the fetch failed.
func (u LayoutUpdate) Decode(v any) error {
	if u.Err != nil {
		return u.Err
	}
	return json.Unmarshal(u.Layout, v)
}

// Watch is a running layout watch (Object.Watch). C receives the fresh layouts; a reader that falls
// behind finds the newest one only (older pending layouts are dropped, never the session stalled). C is
// closed when the watch ends: Stop, a new Watch on the same handle, the handle's Close or release by the
// engine, or the session's end.
type Watch struct {
	C <-chan LayoutUpdate

	ch    chan LayoutUpdate
	obj   *Object // keeps the handle (and so the watch) alive while the Watch is used
	token uint64

	mu   sync.Mutex // guards done and the sends on ch
	done bool
}

// Watch keeps the object's layout fresh (the C API's qix_object_watch): libqix fetches the layout now if
// it is not current, and again after each change (bursts coalesced; the session option
// watch.min_interval_ms throttles the fetches), and delivers each layout on the returned Watch's C.
//
// The engine object has one watch: a Watch set through another handle on the same object replaces this
// one (whose C then stops receiving), and Stop through any handle stops it. Errors: ErrClosed.
func (o *Object) Watch() (*Watch, error) {
	c := o.core
	s := c.s
	w := &Watch{ch: make(chan LayoutUpdate, 1), obj: o, token: s.tokens.Add(1)}
	w.C = w.ch
	s.live.RLock()
	defer s.live.RUnlock()
	if s.freed {
		return nil, errorf(ErrClosed, "the session is closed")
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.released {
		return nil, errorf(ErrClosed, "the object was closed with Close")
	}
	s.mu.Lock()
	s.watches[w.token] = w
	prev := c.watch
	c.watch = w
	s.mu.Unlock()
	if err := takeError(s.conn.Watch(c.h, w.token)); err != nil {
		s.mu.Lock()
		delete(s.watches, w.token)
		c.watch = prev
		s.mu.Unlock()
		return nil, err
	}
	if prev != nil {
		s.mu.Lock()
		delete(s.watches, prev.token)
		s.mu.Unlock()
		prev.end()
	}
	return w, nil
}

// Stop stops the watch (qix_object_unwatch) and closes C. Stopping again is a no-op; Stop always returns
// nil.
func (w *Watch) Stop() error {
	c := w.obj.core
	s := c.s
	s.mu.Lock()
	delete(s.watches, w.token)
	mine := c.watch == w
	if mine {
		c.watch = nil
	}
	s.mu.Unlock()
	if mine {
		s.live.RLock()
		if !s.freed {
			c.mu.RLock()
			if !c.released {
				s.conn.Unwatch(c.h)
			}
			c.mu.RUnlock()
		}
		s.live.RUnlock()
	}
	w.end()
	return nil
}

// push delivers u, replacing a pending update nobody read yet. Only the poll goroutine pushes.
func (w *Watch) push(u LayoutUpdate) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	select {
	case w.ch <- u:
	default:
		select {
		case <-w.ch: // the reader fell behind: drop the older layout
		default:
		}
		w.ch <- u // room: only push sends, under w.mu
	}
}

func (w *Watch) end() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.done = true
		close(w.ch)
	}
}

// endWatch ends the handle's watch when the handle is gone (its C watch went with it).
func (o *objectCore) endWatch() {
	s := o.s
	s.mu.Lock()
	w := o.watch
	o.watch = nil
	if w != nil {
		delete(s.watches, w.token)
	}
	s.mu.Unlock()
	if w != nil {
		w.end()
	}
}
