package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/tlslab/tlslab/lab"
)

// progress draws one line on a terminal while scenarios run, "[ 12/52
// scenarios] mitm/self-signed: held (3.1s elapsed)", and erases it when
// done, so the report that follows is not interleaved with it. When w is
// not a terminal (a pipe, a file, a CI log) it writes nothing at all,
// unless asked for lines: then every finished run gets a line of its own,
// kept, on any w.
type progress struct {
	ctx   context.Context // runs its cancellation stopped are not shown
	w     io.Writer       // nil: not a terminal, draw nothing
	what  string          // "scenario" or "cell"
	lines bool            // a line per run instead of one redrawn line
	start time.Time
	mu    sync.Mutex
	drawn bool
}

// newProgress returns a progress line on w when w is a terminal, or one
// line per finished run on w whatever it is when lines is set (--progress).
// Runs that ctx's cancellation stopped or kept from starting are not shown.
func newProgress(ctx context.Context, w io.Writer, what string, lines bool) *progress {
	p := &progress{ctx: ctx, what: what, lines: lines, start: time.Now()}
	if f, ok := w.(*os.File); lines || ok && term.IsTerminal(int(f.Fd())) {
		p.w = w
	}
	return p
}

// update redraws the line for one finished run; it has the signature of
// lab.Runner.Progress.
func (p *progress) update(done, total int, r lab.Result) {
	if p.w == nil || p.ctx != nil && wasInterrupted(p.ctx, r) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	width := len(fmt.Sprint(total))
	line := fmt.Sprintf("[%*d/%d %ss] %s: %s (%s elapsed)", width, done, total, p.what, r.Scenario, r.Verdict,
		time.Since(p.start).Round(100*time.Millisecond))
	if p.lines {
		fmt.Fprintln(p.w, line)
		return
	}
	// \r to the line's start, the text cut to a common terminal width, and
	// \x1b[K to erase what a longer previous line left.
	fmt.Fprintf(p.w, "\r%s\x1b[K", truncateRunes(line, 79))
	p.drawn = true
}

// clear erases the line, if one was drawn.
func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w != nil && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}
