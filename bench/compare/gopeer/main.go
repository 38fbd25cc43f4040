// qix_bench_gopeer: the Go peer bench/compare measures libqix's Go binding against, a QIX client in pure
// Go written the way Go QIX clients are (enigma-go's design): github.com/gorilla/websocket (Debian's
// golang-github-gorilla-websocket-dev), one goroutine reading every frame and handing each answer to the
// channel of the call with its id, requests marshalled with encoding/json and written under a mutex, results
// decoded with encoding/json into a typed struct. No timeouts, no change tracking, no delta, no reconnect:
// less than a client needs, so what it costs is a floor for Go's way of making calls (a goroutine blocked on
// a channel per call), not a full client.
//
//	qix_bench_gopeer URL tiny CALLS WINDOW
//
// WINDOW goroutines, each making EngineVersion calls one after another until CALLS were made, as
// qix_bench_go does with the binding; the same unmeasured warm-up first (CALLS/10 calls, repeated until
// QIX_BENCH_WARM_S seconds went by, 1.5 unless set). Prints `ok=N failed=F wall_s=S cpu_s=C`, C being this
// process's CPU time (getrusage) over the timed part; exit 0 when every call was answered once.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      int64  `json:"id"`
	Method  string `json:"method"`
	Handle  int    `json:"handle"`
	Params  []any  `json:"params"`
}

// response is every frame's envelope: an answer has an id, a notification none.
type response struct {
	ID     *int64          `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type engineVersion struct {
	Version struct {
		ComponentVersion string `json:"qComponentVersion"`
	} `json:"qVersion"`
}

// client is one WebSocket and its calls in flight.
type client struct {
	ws      *websocket.Conn
	writeMu sync.Mutex
	mu      sync.Mutex
	pending map[int64]chan response
	nextID  atomic.Int64
	readErr error
	done    chan struct{}
}

func dial(url string) (*client, error) {
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	c := &client{ws: ws, pending: map[int64]chan response{}, done: make(chan struct{})}
	go c.read()
	return c, nil
}

// read hands each answer to its call's channel until the connection ends.
func (c *client) read() {
	defer close(c.done)
	for {
		_, frame, err := c.ws.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			for id, ch := range c.pending {
				ch <- response{Error: &struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				}{-1, err.Error()}}
				delete(c.pending, id)
			}
			c.mu.Unlock()
			return
		}
		var r response
		if json.Unmarshal(frame, &r) != nil || r.ID == nil {
			continue // a notification (or garbage): nobody waits for it
		}
		c.mu.Lock()
		ch := c.pending[*r.ID]
		delete(c.pending, *r.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
}

// call sends one request and waits for its answer.
func (c *client) call(method string, handle int, params []any) (json.RawMessage, error) {
	id := c.nextID.Add(1)
	ch := make(chan response, 1)
	c.mu.Lock()
	if c.readErr != nil {
		c.mu.Unlock()
		return nil, c.readErr
	}
	c.pending[id] = ch
	c.mu.Unlock()
	if params == nil {
		params = []any{}
	}
	frame, err := json.Marshal(request{JSONRPC: "2.0", ID: id, Method: method, Handle: handle, Params: params})
	if err != nil {
		return nil, err
	}
	c.writeMu.Lock()
	err = c.ws.WriteMessage(websocket.TextMessage, frame)
	c.writeMu.Unlock()
	if err != nil {
		return nil, err
	}
	r := <-ch
	if r.Error != nil {
		return nil, errors.New(r.Error.Message)
	}
	return r.Result, nil
}

func (c *client) engineVersion() (*engineVersion, error) {
	raw, err := c.call("EngineVersion", -1, nil)
	if err != nil {
		return nil, err
	}
	var v engineVersion
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// run makes `calls` calls with `window` goroutines; it returns the calls that succeeded and failed.
func run(c *client, calls int64, window int) (int64, int64) {
	var issued, ok, failed int64
	var wg sync.WaitGroup
	for i := 0; i < window; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.AddInt64(&issued, 1) <= calls {
				if v, err := c.engineVersion(); err == nil && v.Version.ComponentVersion != "" {
					atomic.AddInt64(&ok, 1)
				} else {
					atomic.AddInt64(&failed, 1)
				}
			}
		}()
	}
	wg.Wait()
	return ok, failed
}

func main() {
	if len(os.Args) != 5 || os.Args[2] != "tiny" {
		fmt.Fprintln(os.Stderr, "usage: qix_bench_gopeer URL tiny CALLS WINDOW")
		os.Exit(2)
	}
	calls, _ := strconv.ParseInt(os.Args[3], 10, 64)
	window, _ := strconv.Atoi(os.Args[4])
	c, err := dial(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		os.Exit(1)
	}
	warm := calls / 10
	if warm < 1 {
		warm = 1
	}
	warmFor := 1.5
	if v, err := strconv.ParseFloat(os.Getenv("QIX_BENCH_WARM_S"), 64); err == nil {
		warmFor = v
	}
	for until := time.Now().Add(time.Duration(warmFor * float64(time.Second))); ; {
		run(c, warm, window)
		if !time.Now().Before(until) {
			break
		}
	}
	c0, t0 := cpuSeconds(), time.Now()
	ok, failed := run(c, calls, window)
	wall, cpu := time.Since(t0).Seconds(), cpuSeconds()-c0
	fmt.Printf("ok=%d failed=%d wall_s=%.6f cpu_s=%.6f\n", ok, failed, wall, cpu)
	c.writeMu.Lock()
	_ = c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	c.writeMu.Unlock()
	_ = c.ws.Close()
	<-c.done
	if failed != 0 || ok != calls {
		os.Exit(1)
	}
}
