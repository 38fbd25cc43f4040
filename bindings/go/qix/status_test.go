package qix

import (
	"testing"

	"github.com/libqix/libqix/bindings/go/internal/qixswig"
)

// The Status constants are the C API's QIX_E* values (qix.h, append-only).
func TestStatusesMatchTheCAPI(t *testing.T) {
	want := map[Status]qixswig.Qix_status{
		ErrInvalid: qixswig.QIX_EINVAL, ErrClosed: qixswig.QIX_ECLOSED, ErrEngine: qixswig.QIX_EENGINE,
		ErrTimeout: qixswig.QIX_ETIMEOUT, ErrCancelled: qixswig.QIX_ECANCELLED,
		ErrConnection: qixswig.QIX_ECONNECTION, ErrNotFound: qixswig.QIX_ENOTFOUND,
		ErrProtocol: qixswig.QIX_EPROTOCOL, ErrTooLarge: qixswig.QIX_ETOOLARGE, ErrHTTP: qixswig.QIX_EHTTP,
		ErrTLS: qixswig.QIX_ETLS, ErrNetwork: qixswig.QIX_ENETWORK, ErrBusy: qixswig.QIX_EBUSY,
		ErrNoMemory: qixswig.QIX_ENOMEM, ErrInternal: qixswig.QIX_EINTERNAL,
	}
	for s, c := range want {
		if int(s) != int(c) {
			t.Errorf("%v is %d, the C API says %d", s, int(s), int(c))
		}
		if statusText[s] == "" {
			t.Errorf("no text for %d", int(s))
		}
	}
	if len(statusText) != len(want) {
		t.Errorf("%d status texts for %d statuses", len(statusText), len(want))
	}
}

func TestErrorFormatting(t *testing.T) {
	e := &Error{Status: ErrEngine, Code: 1003, Name: "LOCERR_APP_NOT_FOUND", Message: "App not found",
		Parameter: "x"}
	if got, want := e.Error(), "qix: engine error 1003 LOCERR_APP_NOT_FOUND: App not found (parameter: x)"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := Status(-99).Error(); got != "qix: status -99" {
		t.Fatalf("unknown status: %q", got)
	}
}
