package qix

import (
	"log"
	"runtime/debug"
	"strings"
	"time"

	"github.com/libqix/libqix/bindings/go/internal/qixswig"
)

// An Option configures Dial. Options are applied in order; a later one wins.
type Option func(*config)

type setting struct {
	name  string
	value any // string, int64 or bool
}

type config struct {
	settings []setting
	headers  [][2]string
	cookies  [][2]string
	traffic  func(sent bool, frame string)
	onPanic  func(recovered any)
}

// WithOption sets a libqix option by name, as listed in the C API's docs/defaults.md: for example
// "tls.ca_file" (string), "timeout.connect_ms" (int), "tls.verify" (bool). value is a string, a bool,
// any integer type, or a time.Duration (for the *_ms options). An unknown name or a value of the wrong
// type makes Dial fail with ErrInvalid.
func WithOption(name string, value any) Option {
	return func(c *config) {
		switch v := value.(type) {
		case time.Duration:
			value = v.Milliseconds()
		case int:
			value = int64(v)
		case int32:
			value = int64(v)
		case uint32:
			value = int64(v)
		case uint16:
			value = int64(v)
		}
		c.settings = append(c.settings, setting{name, value})
	}
}

// WithHeader adds a header to the WebSocket upgrade request, e.g. "Authorization", "Bearer ...".
// Header values are secrets: libqix never logs them and they never appear in the traffic log.
func WithHeader(name, value string) Option {
	return func(c *config) { c.headers = append(c.headers, [2]string{name, value}) }
}

// WithCookie adds a cookie to the upgrade request (all cookies go in one Cookie header).
func WithCookie(name, value string) Option {
	return func(c *config) { c.cookies = append(c.cookies, [2]string{name, value}) }
}

// WithDelta turns the delta protocol (JSON-Patch answers to GetLayout, GetProperties ...) on or off for
// the session. It is on by default, as in enigma.js; results are the same either way.
func WithDelta(on bool) Option { return WithOption("delta", on) }

// WithCallTimeout fails calls that get no answer within d with ErrTimeout (0, the default, means no
// timeout; a call's context can still end it).
func WithCallTimeout(d time.Duration) Option { return WithOption("timeout.call_ms", d) }

// WithTrafficLog calls fn with every JSON-RPC frame, as sent (sent is true) or received, in order. It
// runs on the session's callback goroutine (see Session), never on libqix's threads; a panic in fn is
// recovered and reported to the panic handler (WithPanicHandler).
func WithTrafficLog(fn func(sent bool, frame string)) Option {
	return func(c *config) { c.traffic = fn }
}

// WithPanicHandler receives what a callback of this session (WithTrafficLog) panicked with, after
// recovery; the session carries on. The default handler (also for nil) logs the value and its stack
// with package log. A panic in the handler itself is recovered and dropped.
func WithPanicHandler(fn func(recovered any)) Option {
	return func(c *config) { c.onPanic = fn }
}

func defaultPanicHandler(recovered any) {
	log.Printf("qix: a callback panicked: %v\n%s", recovered, debug.Stack())
}

// OptionType says which Go values an option takes through WithOption.
type OptionType int

const (
	// OptionString options take a string.
	OptionString OptionType = iota
	// OptionInt options take an integer (or a time.Duration for the *_ms ones).
	OptionInt
	// OptionBool options take a bool.
	OptionBool
)

// OptionInfo describes one libqix option, from the same table that checks WithOption's names and values
// and that docs/defaults.md prints.
type OptionInfo struct {
	Name    string     // e.g. "timeout.call_ms"
	Type    OptionType // which values it takes
	Min     int64      // integers: the smallest accepted value (0 for the other types)
	Max     int64      // integers: the largest accepted value (math.MaxInt64: no upper bound)
	Values  []string   // strings with a fixed set of values, e.g. none, attach, resume; else nil
	Default string     // the default as text: "30000", "true", "none", or "" when empty
	Doc     string     // what it does, in one line
}

// Options lists every option libqix knows, with its type, bounds, accepted values, default and a one-line
// description, in docs/defaults.md's order (which may change between versions: find options by name).
// Safe for concurrent use; the slice is the caller's.
func Options() []OptionInfo {
	n := qixswig.Options_count()
	out := make([]OptionInfo, 0, n)
	for i := 0; i < n; i++ {
		info := qixswig.Option_info(i)
		o := OptionInfo{
			Name:    info.GetName(),
			Min:     info.GetMin(),
			Max:     info.GetMax(),
			Default: info.GetDefault_text(),
			Doc:     info.GetDoc(),
		}
		switch qixswig.Qix_option_type(info.GetValue_type()) {
		case qixswig.QIX_OPTION_INT:
			o.Type = OptionInt
		case qixswig.QIX_OPTION_BOOL:
			o.Type = OptionBool
		default:
			o.Type = OptionString
		}
		if v := info.GetValues(); v != "" {
			o.Values = strings.Split(v, "|")
		}
		qixswig.DeleteOptionInfo(info)
		out = append(out, o)
	}
	return out
}

// SetIOSpin sets how long libqix's I/O thread may poll its sockets before it sleeps, in microseconds (0 to
// 1000000; 0: it never polls), for every session of the program: they share one libqix context, whose
// threads the binding starts on the first Dial (or here, if earlier). While answers come back quickly (a
// call at a time to a nearby engine) polling saves the wake-up per answer, at the cost of CPU; after longer
// waits the thread sleeps at once anyway (docs/c-api.md, Threads). The default is 50, or the environment
// variable QIX_IO_SPIN_US when it holds a number in range as the context is created. Takes effect at the
// I/O thread's next wait; safe from any goroutine.
//
// Errors: ErrInvalid (out of range).
func SetIOSpin(microseconds int) error {
	return takeError(qixswig.Set_io_spin(microseconds))
}
