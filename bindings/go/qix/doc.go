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
// Events arrive on channels that never block libqix: Object.Changed (coalesced: a slow reader finds one
// pending signal), Object.Closed, Session.Closed and Session.Notifications (queued until read).
// Callbacks (WithTrafficLog) run on a goroutine of the session, in order; a panic in one is recovered
// and reported (WithPanicHandler), never fatal.
//
// Everything in this package is safe for concurrent use by multiple goroutines.
package qix
