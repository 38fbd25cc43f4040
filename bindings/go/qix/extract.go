package qix

import (
	"context"
	"encoding/json"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/libqix/libqix/bindings/go/internal/qixswig"
)

// ExtractOptions tunes Object.Extract; nil or the zero value takes every default.
type ExtractOptions struct {
	// PageHeight is the number of rows per GetHyperCubeData page (0: as many as fit in 10,000 cells;
	// libqix caps a page at 10,000 cells).
	PageHeight int
	// Window is the number of pages requested and not yet delivered, at most (0: 4).
	Window int
	// Buffer is the number of rows held for the reader, at most (0: 256). When it is full, libqix's
	// delivery of this session's events waits for the reader (see "Bulk extraction" in docs/go.md).
	Buffer int
}

const defaultExtractBuffer = 256

// Rows is a running bulk extraction (Object.Extract), read like database/sql's Rows:
//
//	rows, err := obj.Extract(ctx, "/qHyperCubeDef", nil)
//	if err != nil { ... }
//	defer rows.Close()
//	for rows.Next() {
//		cells := rows.Row() // []NxCell: Text, Num, State, ElemNumber ...
//	}
//	if err := rows.Err(); err != nil { ... }
//
// Next, Row, Index and Err are for one goroutine; Close may be called from any, also while Next waits.
type Rows struct {
	core  *rowsCore
	obj   *Object // keeps the handle alive while the rows are read
	ctx   context.Context
	row   []NxCell
	index int64
	count int64
	err   error
	ended bool
}

// rowsCore owns the bridge's Extraction; the goroutine that watches ctx holds it, never the Rows, so an
// abandoned Rows can still be finalized.
type rowsCore struct {
	ext       qixswig.Extraction
	mu        sync.RWMutex // read-held while ext is used, write-held to delete it
	deleted   bool
	closing   atomic.Bool
	done      chan struct{} // closed by close: ends the ctx watcher
	closeOnce sync.Once
}

// Extract streams every row of the hypercube at path (e.g. "/qHyperCubeDef") of this object, in row
// order (the C API's qix_object_extract: the cube's size from a fresh GetLayout, then GetHyperCubeData
// pages with up to opts.Window of them in flight). Each row arrives once, as the engine's cells decoded
// into []NxCell.
//
// Cancelling ctx, or Close, stops the extraction: the pages in flight are cancelled, Next returns false.
// After ctx ended, Err returns an *Error with Status ErrCancelled wrapping ctx.Err(); after Close, nil
// (unless the extraction had failed before). Other errors (from Extract, or from Err after the loop):
// ErrClosed (the object or session is closed), ErrInvalid (path names no hypercube), ErrEngine (the
// GetLayout's or a page's error), ErrConnection.
func (o *Object) Extract(ctx context.Context, path string, opts *ExtractOptions) (*Rows, error) {
	if err := ctx.Err(); err != nil {
		return nil, cancelled(err)
	}
	var cfg ExtractOptions
	if opts != nil {
		cfg = *opts
	}
	if cfg.PageHeight < 0 || cfg.Window < 0 || cfg.Buffer < 0 {
		return nil, errorf(ErrInvalid, "ExtractOptions: negative PageHeight, Window or Buffer")
	}
	if cfg.Buffer == 0 {
		cfg.Buffer = defaultExtractBuffer
	}
	ext, err := o.core.startExtract(path, cfg)
	runtime.KeepAlive(o)
	if err != nil {
		return nil, err
	}
	core := &rowsCore{ext: ext, done: make(chan struct{})}
	r := &Rows{core: core, obj: o, ctx: ctx, index: -1}
	runtime.SetFinalizer(r, func(r *Rows) { r.core.close() })
	if ctx.Done() != nil {
		go func() {
			select {
			case <-ctx.Done():
				core.stop()
			case <-core.done:
			}
		}()
	}
	return r, nil
}

// startExtract starts the bridge's extraction on this handle.
func (o *objectCore) startExtract(path string, cfg ExtractOptions) (qixswig.Extraction, error) {
	s := o.s
	s.live.RLock()
	defer s.live.RUnlock()
	if s.freed {
		return nil, errorf(ErrClosed, "the session is closed")
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.released {
		return nil, errorf(ErrClosed, "the object was closed with Close")
	}
	ext := s.conn.Extract(o.h, path, cfg.PageHeight, cfg.Window, cfg.Buffer)
	if ext == nil || ext.Swigcptr() == 0 {
		return nil, errorf(ErrNoMemory, "out of memory")
	}
	if !ext.Started() {
		err := newError(ext.Error())
		qixswig.DeleteExtraction(ext)
		if err == nil {
			err = errorf(ErrInternal, "the extraction did not start")
		}
		return nil, err
	}
	return ext, nil
}

// Next waits for the next row and reports whether there is one (then Row returns it). It returns false
// at the end, after an error (see Err), after ctx ended, and after Close.
func (r *Rows) Next() bool {
	if r.ended {
		return false
	}
	c := r.core
	c.mu.RLock()
	if c.deleted || c.closing.Load() {
		c.mu.RUnlock()
		r.end(nil)
		return false
	}
	handOverHere() // from an asynchronous call's function: the rows must not wait for it
	if c.ext.Next() {
		text, index := c.ext.Row(), c.ext.Index()
		c.mu.RUnlock()
		var row []NxCell
		if err := json.Unmarshal([]byte(text), &row); err != nil {
			r.end(&Error{Status: ErrProtocol, Message: "row " + text + ": " + err.Error()})
			return false
		}
		r.row, r.index = row, index
		r.count++
		return true
	}
	status := Status(c.ext.Status())
	err := newError(c.ext.Error())
	c.mu.RUnlock()
	switch {
	case status == 0:
		r.end(nil)
	case c.closing.Load():
		r.end(nil) // Close: no error
	case status == ErrCancelled && r.ctx.Err() != nil:
		r.end(cancelled(r.ctx.Err()))
	case err != nil:
		r.end(err)
	default:
		r.end(&Error{Status: status, Message: status.Error()})
	}
	return false
}

// end records the outcome and releases the extraction.
func (r *Rows) end(err error) {
	r.ended = true
	r.row = nil
	if r.err == nil {
		r.err = err
	}
	r.core.close()
}

// Row returns the current row's cells (valid until the next call of Next; the slice is the caller's).
func (r *Rows) Row() []NxCell { return r.row }

// Index returns the current row's position in the hypercube (0-based).
func (r *Rows) Index() int64 { return r.index }

// Err returns the error that ended the extraction, or nil when every row was read, or after Close.
func (r *Rows) Err() error { return r.err }

// Close stops the extraction (libqix cancels the pages in flight; rows not read are dropped) and releases
// it. It does not wait for the engine. Closing again, or after the end, is a no-op; Close always returns
// nil.
func (r *Rows) Close() error {
	runtime.SetFinalizer(r, nil)
	r.core.close()
	return nil
}

// stop makes a waiting Next return and the row callback stop the extraction (thread-safe).
func (c *rowsCore) stop() {
	c.mu.RLock()
	if !c.deleted {
		c.ext.Stop()
	}
	c.mu.RUnlock()
}

// close stops the extraction and deletes the bridge's Extraction once Next is not using it.
func (c *rowsCore) close() {
	c.closeOnce.Do(func() {
		c.closing.Store(true)
		c.stop() // a Next waiting in the bridge returns, releasing mu
		c.mu.Lock()
		c.deleted = true
		qixswig.DeleteExtraction(c.ext)
		c.mu.Unlock()
		close(c.done)
	})
}
