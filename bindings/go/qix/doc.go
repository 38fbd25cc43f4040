// Package qix is a client for the Qlik QIX Engine (Qlik Sense, Qlik Cloud, Qlik Associative Engine):
// JSON-RPC over WebSocket, through libqix's C API (libqix.so.1, found with pkg-config as "libqix").
//
// It offers what enigma-go offers, with libqix's core underneath (pipelined calls, handles, change
// tracking, the delta protocol, cancellation, TLS and authentication):
//
//	s, err := qix.Dial(ctx, "ws://localhost:9076/app/demo")
//	if err != nil { ... }
//	defer s.Close()
//	doc, err := s.OpenDoc(ctx, "demo")
//	obj, err := doc.CreateSessionObject(ctx, map[string]any{
//		"qInfo":         map[string]any{"qType": "sales"},
//		"qHyperCubeDef": ...,
//	})
//	layout, err := obj.GetLayout(ctx)     // json.RawMessage
//	<-obj.Changed()                        // after a selection: the layout is stale
//
// Every call takes a context.Context: when it ends first, the engine gets a CancelRequest and the call
// returns an *Error with Status ErrCancelled that also matches ctx.Err() with errors.Is. Failures are
// *Error values (errors.As) carrying the engine's code, LOCERR name, parameter and message; their
// Status matches the Err* constants with errors.Is.
//
// Asynchronous calls: every typed method has an Async form (Global.EngineVersionAsync, Doc.GetObjectAsync
// ...), and Session and Object have CallAsync. The call is issued at once and a function gets its outcome,
// with no goroutine blocked for it, the way libqix's C callbacks, Java's futures and C#'s continuations
// work:
//
//	err := g.EngineVersionAsync(func(v *qix.NxEngineVersion, err error) {
//		// on libqix's thread: use v, or make the next call (it leaves with the others of this burst)
//	})
//
// The function is called exactly once, unless the Async method returns an error (the call was not made:
// the session or object is closed, the params do not encode). A successful result without object runs it
// on the libqix thread that read the answer (the answers of a burst reach Go together and their functions
// run one after the other; the asynchronous calls made meanwhile on that session are issued together, in
// order, when the last one returns); a failure or a result that carries an object runs it on a goroutine of
// its own. It must not keep that thread: the binding's own blocking calls (a method without
// Async, Close, Dial, an extraction's Next) work there, because they hand the session's later events to
// another thread first, but anything else that blocks (a channel, a lock, a sleep) holds the session's
// events, and every session's sockets until libqix's watch lends another thread 10 to 20 ms later; start a
// goroutine for long work. Functions of one session may run concurrently and in any order. A panic in one
// ends the program, as in any goroutine. Async methods take no context: the session's call timeout
// (WithCallTimeout) bounds them.
//
// Events arrive on channels that never block libqix: Object.Changed (coalesced: a slow reader finds one
// pending signal), Object.Closed, Session.Closed and Session.Notifications (queued until read).
// Callbacks (WithTrafficLog) run on a goroutine of the session, in order; a panic in one is recovered
// and reported (WithPanicHandler), never fatal.
//
// Everything in this package is safe for concurrent use by multiple goroutines.
package qix
