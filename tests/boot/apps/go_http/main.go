// A net/http server for the boot tests: the same static binary (CGO_ENABLED=0) runs on Linux
// and in the unikernel, and a client checks both the same way (tests/boot/clients/go_http_check.sh).
//
//	go_http PORT
//
// GET / is a fixed body; POST /echo gives the request body back; GET /exit?code=N answers,
// then exits with status N. GET /gc fills and drops 8 MiB four times, each time giving the
// free heap back to the kernel (debug.FreeOSMemory: madvise MADV_DONTNEED) and checking the
// next round's memory reads as Go's allocator promises.
//
// GET /spin?ms=N busy-loops in the handler's goroutine until a timer set N ms ahead fires. The
// loop makes no calls, and with one P that timer runs only once the loop is preempted
// asynchronously (SIGURG sent with tgkill), so the answer itself shows preemption works; it
// says how many SIGURGs the program has seen (os/signal) so far. GET /ticks, answered
// meanwhile, shows preemption is prompt: it gives what a background goroutine's time.Ticker
// counted so far and how many /spin loops are running (with one P: preempted ones).
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

const body = "hello from a static Go program\n"

var ticks atomic.Int64

var sigurgs, spinning atomic.Int64

// No calls in the loop (atomic loads are compiled inline), so no stack check where the
// runtime could stop it cooperatively.
//
//go:noinline
func spin(done *atomic.Bool) uint64 {
	var n uint64
	for !done.Load() {
		n = n*6364136223846793005 + 1442695040888963407
	}
	return n
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go_http PORT")
		os.Exit(2)
	}
	// One P: the spinning goroutine and the other requests share it, as on a single vCPU.
	runtime.GOMAXPROCS(1)

	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for range t.C {
			ticks.Add(1)
		}
	}()

	// The runtime preempts with SIGURG; a program asking for it sees those signals too.
	urg := make(chan os.Signal, 16)
	signal.Notify(urg, syscall.SIGURG)
	go func() {
		for range urg {
			sigurgs.Add(1)
		}
	}()

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, body)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Write(data)
	})
	mux.HandleFunc("/spin", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 || ms > 60000 {
			http.Error(w, "ms: a number of milliseconds", http.StatusBadRequest)
			return
		}
		start := time.Now()
		var done atomic.Bool
		time.AfterFunc(time.Duration(ms)*time.Millisecond, func() { done.Store(true) })
		spinning.Add(1)
		n := spin(&done)
		spinning.Add(-1)
		fmt.Fprintf(w, "spun %d ms (%x), SIGURG seen %d times\n", time.Since(start).Milliseconds(), n&1, sigurgs.Load())
	})
	mux.HandleFunc("/gc", func(w http.ResponseWriter, r *http.Request) {
		for round := 1; round <= 4; round++ {
			chunks := make([][]byte, 8)
			for i := range chunks {
				chunks[i] = make([]byte, 1<<20)
				for j := range chunks[i] {
					if chunks[i][j] != 0 {
						http.Error(w, fmt.Sprintf("round %d: new memory is not zero", round), 500)
						return
					}
					chunks[i][j] = byte(i + j + round)
				}
			}
			for i := range chunks {
				for j := range chunks[i] {
					if chunks[i][j] != byte(i+j+round) {
						http.Error(w, fmt.Sprintf("round %d: memory changed under the program", round), 500)
						return
					}
				}
			}
			chunks = nil
			debug.FreeOSMemory()
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Fprintf(w, "gc ok: %d collections, %d MiB released to the OS\n", m.NumGC, m.HeapReleased>>20)
	})
	mux.HandleFunc("/ticks", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "ticks %d, spinning %d\n", ticks.Load(), spinning.Load())
	})
	mux.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.URL.Query().Get("code"))
		if err != nil || code < 0 || code > 125 {
			http.Error(w, "code: 0 to 125", http.StatusBadRequest)
			return
		}
		io.WriteString(w, "bye\n")
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		// Exit once the answer is out: from another goroutine, after the handler returns.
		go func() {
			time.Sleep(50 * time.Millisecond)
			fmt.Printf("go_http: exiting with status %d\n", code)
			os.Exit(code)
		}()
	})

	// Where the heap is: the runtime asks mmap for 0xc000000000 as a hint, and Linux gives it.
	fmt.Printf("go_http: heap at %p\n", new([64]byte))

	ln, err := net.Listen("tcp", ":"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_http:", err)
		os.Exit(1)
	}
	fmt.Printf("go_http: listening on %s (%s, GOMAXPROCS %d, NumCPU %d)\n",
		ln.Addr(), runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU())
	err = http.Serve(ln, mux)
	fmt.Fprintln(os.Stderr, "go_http:", err)
	os.Exit(1)
}
