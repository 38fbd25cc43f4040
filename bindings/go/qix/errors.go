package qix

import (
	"fmt"
	"strings"

	"github.com/libqix/libqix/bindings/go/internal/qixswig"
)

// Status is the kind of a failure: libqix's status codes (the C API's QIX_E* values, which never
// change). A Status is itself an error, so errors.Is(err, qix.ErrClosed) tells what kind of failure
// err is.
type Status int

// The status codes. Append-only, like the C API's.
const (
	ErrInvalid    Status = -1  // a bad argument (also params that are not a JSON array or object)
	ErrClosed     Status = -2  // the session or object is closed; nothing was sent
	ErrEngine     Status = -3  // the engine answered with an error (Code, Name, Parameter, Message)
	ErrTimeout    Status = -4  // a connect or call timeout expired
	ErrCancelled  Status = -5  // the call was cancelled (its context ended); the engine got CancelRequest
	ErrConnection Status = -6  // the connection was lost before the answer arrived
	ErrNotFound   Status = -7  // no such thing
	ErrProtocol   Status = -8  // the peer broke the protocol
	ErrTooLarge   Status = -9  // a message exceeded the maximum message size
	ErrHTTP       Status = -10 // the WebSocket upgrade got an HTTP error status (Code)
	ErrTLS        Status = -11 // TLS handshake or certificate verification failed
	ErrNetwork    Status = -12 // name resolution, TCP connect or I/O failed
	ErrBusy       Status = -13 // not possible from here
	ErrNoMemory   Status = -14 // out of memory
	ErrInternal   Status = -15 // a bug in libqix
)

var statusText = map[Status]string{
	ErrInvalid:    "invalid argument",
	ErrClosed:     "session or object closed",
	ErrEngine:     "engine error",
	ErrTimeout:    "timeout",
	ErrCancelled:  "cancelled",
	ErrConnection: "connection lost",
	ErrNotFound:   "not found",
	ErrProtocol:   "protocol error",
	ErrTooLarge:   "message too large",
	ErrHTTP:       "HTTP error",
	ErrTLS:        "TLS error",
	ErrNetwork:    "network error",
	ErrBusy:       "busy",
	ErrNoMemory:   "out of memory",
	ErrInternal:   "internal error",
}

// Error describes the status, e.g. "qix: connection lost".
func (s Status) Error() string {
	if t, ok := statusText[s]; ok {
		return "qix: " + t
	}
	return fmt.Sprintf("qix: status %d", int(s))
}

// Error is the error every failing operation of this package returns (use errors.As to read it).
//
// Engine errors keep what the engine said: Code (e.g. 1003), Name (the LOCERR name, e.g.
// "LOCERR_APP_NOT_FOUND"), Parameter and Message. For ErrHTTP, Code is the HTTP status. A call whose
// context ended fails with ErrCancelled and wraps the context's error, so
// errors.Is(err, context.DeadlineExceeded) and errors.Is(err, context.Canceled) work too.
type Error struct {
	Status    Status // the kind of failure; errors.Is(err, Status) matches it
	Code      int    // engine errors: the engine's code; ErrHTTP: the HTTP status; else 0
	Name      string // engine errors: the LOCERR name
	Parameter string // engine errors: the engine's parameter
	Message   string // a human-readable message (never empty)
	Retriable bool   // retrying the same request may succeed (engine code 15, timeouts, lost connections)
	cause     error  // the context's error for cancellations
}

// Error formats the error on one line, e.g.
// "qix: engine error 1003 LOCERR_APP_NOT_FOUND: App not found (parameter: x)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Status.Error())
	if e.Code != 0 {
		fmt.Fprintf(&b, " %d", e.Code)
	}
	if e.Name != "" {
		b.WriteString(" " + e.Name)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Parameter != "" {
		b.WriteString(" (parameter: " + e.Parameter + ")")
	}
	if e.cause != nil {
		b.WriteString(" (" + e.cause.Error() + ")")
	}
	return b.String()
}

// Is reports whether target is e's Status.
func (e *Error) Is(target error) bool {
	s, ok := target.(Status)
	return ok && s == e.Status
}

// Unwrap returns the context's error for a call cancelled by its context, else nil.
func (e *Error) Unwrap() error { return e.cause }

// newError copies a C++ qix::Error (borrowed; nil gives nil).
func newError(e qixswig.Error) *Error {
	if e == nil || e.Swigcptr() == 0 {
		return nil
	}
	return &Error{
		Status:    Status(e.Status()),
		Code:      e.EngineCode(),
		Name:      e.Name(),
		Parameter: e.Parameter(),
		Message:   e.Message(),
		Retriable: e.Retriable(),
	}
}

// takeError copies and deletes a qix::Error returned by the bridge (NULL, i.e. success, gives nil).
func takeError(e qixswig.Error) error {
	if e == nil || e.Swigcptr() == 0 {
		return nil
	}
	defer qixswig.DeleteError(e)
	return newError(e)
}

// errorf makes an Error of this package's own.
func errorf(status Status, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}
