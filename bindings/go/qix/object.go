package qix

import (
	"context"
	"encoding/json"
	"runtime"
	"sync"

	"github.com/libqix/libqix/bindings/go/internal/qixswig"
)

// Object is a handle to one engine object: Global, a Doc, a GenericObject, a Field, a variable ...
// Its methods are safe for concurrent use.
//
// The handle stays usable until Close or until the engine releases it (DestroySessionObject, or the
// session ending); then calls fail with ErrClosed and Closed() is closed. Close releases only this
// client's handle, never the engine object (call DestroySessionObject for that). An Object nobody
// references any more is released by a finalizer.
type Object struct {
	core *objectCore
}

// objectCore is what the session tracks (by token) for one handle; the Object the user holds points to
// it, so that an unreachable Object can be finalized while the session still routes its events.
type objectCore struct {
	s     *Session
	token uint64

	handle      int
	typ         string
	genericID   string
	genericType string

	changed     chan struct{} // capacity 1: pending "changed" signals coalesce into one
	changedOnce sync.Once     // the C listener is registered on the first Changed()
	closed      chan struct{}
	closeOnce   sync.Once

	mu       sync.RWMutex // read-held while h is used, write-held to delete it
	h        qixswig.Object
	released bool

	watch *Watch // the layout watch set through this handle (guarded by s.mu)
}

// adopt tracks a new handle (owned: deleted on release) whose events carry token.
func (s *Session) adopt(h qixswig.Object, token uint64) *objectCore {
	o := &objectCore{
		s:           s,
		token:       token,
		h:           h,
		handle:      h.Handle(),
		typ:         h.Type(),
		genericID:   h.GenericId(),
		genericType: h.GenericType(),
		changed:     make(chan struct{}, 1),
		closed:      make(chan struct{}),
	}
	if h.Closed() {
		o.markClosed()
	}
	s.mu.Lock()
	s.objects[token] = o
	s.mu.Unlock()
	return o
}

func newObject(o *objectCore) *Object {
	obj := &Object{core: o}
	runtime.SetFinalizer(obj, func(obj *Object) { obj.core.release() })
	return obj
}

// objectOf turns a call's outcome into an Object.
func objectOf(out outcome, err error) (*Object, error) {
	if err != nil {
		return nil, err
	}
	if out.obj == nil {
		return nil, errorf(ErrNotFound, "the result refers to no object: %s", out.json)
	}
	return newObject(out.obj), nil
}

func (o *objectCore) signalChanged() {
	select {
	case o.changed <- struct{}{}:
	default: // a signal is already pending: the reader will see one "changed" for both
	}
}

func (o *objectCore) markClosed() {
	o.closeOnce.Do(func() { close(o.closed) })
	o.endWatch()
}

// release stops tracking the handle and frees it (the user's Close, a finalizer, an unwanted result).
func (o *objectCore) release() {
	s := o.s
	s.mu.Lock()
	_, tracked := s.objects[o.token]
	delete(s.objects, o.token)
	s.mu.Unlock()
	if !tracked {
		return // already freed by the session's Close (or released before)
	}
	s.live.RLock()
	defer s.live.RUnlock()
	o.free()
}

// free deletes the C++ handle (its listeners go with it). The caller holds s.live.
func (o *objectCore) free() {
	o.mu.Lock()
	if !o.released {
		o.released = true
		qixswig.DeleteObject(o.h)
	}
	o.mu.Unlock()
	o.markClosed()
}

// Handle is the engine handle (-1 for Global). A reconnect that restores the object gives it a new one
// (see docs/reconnect.md); once the object is released, the last one known.
func (o *Object) Handle() int {
	o.core.mu.RLock()
	defer o.core.mu.RUnlock()
	if o.core.released {
		return o.core.handle
	}
	return o.core.h.Handle()
}

// Type is the qType: "Global", "Doc", "GenericObject", "Field" ...
func (o *Object) Type() string { return o.core.typ }

// GenericID is the qGenericId (empty for Global and Fields).
func (o *Object) GenericID() string { return o.core.genericID }

// GenericType is the qGenericType.
func (o *Object) GenericType() string { return o.core.genericType }

// Session is the session the object belongs to.
func (o *Object) Session() *Session { return o.core.s }

// Changed returns a channel that receives a value when the object's data becomes invalid (the engine
// listed it in a "change" array after its layout was fetched), which means a new GetLayout gives new
// data. Signals are coalesced: a reader that falls behind finds one pending value, never a stalled
// session. The channel is never closed; select on Closed() too.
//
// The first call starts listening. The engine reports only objects whose layout it has computed, so if
// this object's layout was never fetched (or is stale and not fetched since), libqix fetches it then:
// the next selection that changes the object is reported (docs/c-api.md, "changed").
func (o *Object) Changed() <-chan struct{} {
	o.core.changedOnce.Do(o.core.listenChanged)
	return o.core.changed
}

// listenChanged registers the C "changed" listener (once, from Changed).
func (o *objectCore) listenChanged() {
	s := o.s
	s.live.RLock()
	defer s.live.RUnlock()
	if s.freed {
		return
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	if !o.released {
		s.conn.ListenChanged(o.h, o.token)
	}
}

// Closed returns a channel that is closed when the handle is gone: the engine released it, the
// session ended, or Close was called.
func (o *Object) Closed() <-chan struct{} { return o.core.closed }

// Call sends method to this object and waits for the answer; see Session.Call for params, the result,
// ctx and the errors. A closed object fails with ErrClosed.
func (o *Object) Call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	out, err := o.core.s.call(ctx, o.core, method, params)
	if out.obj != nil {
		out.obj.release()
	}
	runtime.KeepAlive(o)
	return out.json, err
}

// CallObject is Call for methods that return an object (CreateSessionObject, GetObject, GetField ...).
// ErrNotFound when the answer refers to no object (GetObject of a missing id).
func (o *Object) CallObject(ctx context.Context, method string, params any) (*Object, error) {
	obj, err := objectOf(o.core.s.call(ctx, o.core, method, params))
	runtime.KeepAlive(o)
	return obj, err
}

// GetLayout fetches the object's layout (GetLayout; the qLayout value). The layout stays current
// until Changed() signals.
func (o *Object) GetLayout(ctx context.Context) (json.RawMessage, error) {
	return o.Call(ctx, "GetLayout", nil)
}

// CreateSessionObject creates a session object on this Doc from its properties (a map, a struct or
// JSON) and returns it.
func (o *Object) CreateSessionObject(ctx context.Context, properties any) (*Object, error) {
	return o.CallObject(ctx, "CreateSessionObject", []any{properties})
}

// Close releases this handle (its Changed and Closed streams end; Closed() is closed). The engine
// object stays. Closing again is a no-op; Close always returns nil.
func (o *Object) Close() error {
	runtime.SetFinalizer(o, nil)
	o.core.release()
	return nil
}
