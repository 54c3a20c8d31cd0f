package realpeer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// MaxOutput bounds the output a Result keeps; the rest is counted, not
// kept.
const MaxOutput = 1 << 20

// killGrace is how long Wait waits for a killed program's pipes to close
// (a grandchild may hold them) before giving up on them.
const killGrace = 2 * time.Second

// Result is what a program did.
type Result struct {
	// Command is the command line run.
	Command string
	// ExitCode is the program's exit status; -1 when it did not exit by
	// itself (killed, or it failed to start).
	ExitCode int
	// Output is its standard output and error, interleaved as written, at
	// most MaxOutput bytes; Truncated says more was written.
	Output    []byte
	Truncated bool
	// Stopped says the program was still running when its context ended
	// or Stop was called, and its process group was killed.
	Stopped bool
	// Err is why it could not be started, or why it was stopped; nil
	// when it exited by itself, whatever its status.
	Err error
	// Duration is how long it ran.
	Duration time.Duration
}

// Program is the command's first word without its directory
// ("openssl").
func (r Result) Program() string {
	if f := strings.Fields(r.Command); len(f) > 0 {
		return filepath.Base(f[0])
	}
	return r.Command
}

// Status says how the program ended: "exit status 1", or "killed after
// 20s".
func (r Result) Status() string {
	if r.Stopped {
		return "killed after " + r.Duration.Round(time.Millisecond).String()
	}
	return fmt.Sprintf("exit status %d", r.ExitCode)
}

// LastLine is the last non-empty line of the output, at most 200 bytes,
// or "nothing".
func (r Result) LastLine() string {
	lines := strings.Split(strings.TrimSpace(string(r.Output)), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if len(l) > 200 {
		l = l[:200] + "..."
	}
	if l == "" {
		return "nothing"
	}
	return l
}

// Process is a program started by Start.
type Process struct {
	cmd   *exec.Cmd
	out   *boundedBuffer
	start time.Time

	once sync.Once
	res  Result
	done chan struct{}

	mu      sync.Mutex
	stopped bool
	stdin   io.Closer // StartServer's held standard input; nil for Start
}

// Start starts command (a line expanded from a Template) with bash -c, in
// dir, in a process group of its own, with standard input from
// /dev/null unless the command redirects it. When ctx ends, or Stop is
// called, the whole group is killed. Call Wait or Stop to release it.
func Start(ctx context.Context, command, dir string) (*Process, error) {
	return start(ctx, command, dir, false)
}

// StartServer starts command as Start does, but with standard input a
// pipe that stays open, delivering nothing, until the program ends:
// servers that quit when their input ends (openssl s_server does) keep
// serving.
func StartServer(ctx context.Context, command, dir string) (*Process, error) {
	return start(ctx, command, dir, true)
}

func start(ctx context.Context, command, dir string, holdStdin bool) (*Process, error) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		return nil, errors.New("realpeer: bash is needed to run command templates: " + err.Error())
	}
	p := &Process{out: &boundedBuffer{}, done: make(chan struct{})}
	cmd := exec.CommandContext(ctx, bash, "-c", command)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		p.mu.Lock()
		p.stopped = true
		p.mu.Unlock()
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = killGrace
	if holdStdin {
		// The write end is closed by Wait; nothing is ever written.
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return nil, errors.New("realpeer: " + err.Error())
		}
		p.stdin = stdin
	}
	p.cmd = cmd
	p.res.Command = command
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, errors.New("realpeer: starting " + command + ": " + err.Error())
	}
	go p.wait()
	return p, nil
}

// Run starts command as Start does and waits for it.
func Run(ctx context.Context, command, dir string) Result {
	p, err := Start(ctx, command, dir)
	if err != nil {
		return Result{Command: command, ExitCode: -1, Err: err}
	}
	return p.Wait()
}

func (p *Process) wait() {
	defer close(p.done)
	err := p.cmd.Wait()
	if p.stdin != nil {
		p.stdin.Close()
	}
	p.mu.Lock()
	stopped := p.stopped
	p.mu.Unlock()
	r := &p.res
	r.Duration = time.Since(p.start)
	r.Output, r.Truncated = p.out.bytes()
	r.ExitCode = p.cmd.ProcessState.ExitCode()
	switch {
	case stopped:
		r.Stopped, r.ExitCode = true, -1
		r.Err = errors.New("realpeer: stopped while running")
	case err != nil && r.ExitCode < 0:
		r.Err = err
	}
}

// Wait waits for the program to exit and returns what it did.
func (p *Process) Wait() Result {
	<-p.done
	return p.res
}

// Stop kills the program's process group, if it still runs, and returns
// what it did.
func (p *Process) Stop() Result {
	select {
	case <-p.done:
	default:
		p.mu.Lock()
		p.stopped = true
		p.mu.Unlock()
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	return p.Wait()
}

// Program is the program's name, as Result.Program says it.
func (p *Process) Program() string { return Result{Command: p.res.Command}.Program() }

// Pid returns the program's process id (its group's id too).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Output returns what the program has written so far (at most MaxOutput
// bytes), while it runs or after.
func (p *Process) Output() []byte {
	out, _ := p.out.bytes()
	return out
}

// AwaitOutput waits until the program's output contains substr and
// reports true, or reports false once the program has exited without
// writing it or ctx has ended.
func (p *Process) AwaitOutput(ctx context.Context, substr string) bool {
	for {
		changed := p.out.changes()
		if bytes.Contains(p.Output(), []byte(substr)) {
			return true
		}
		select {
		case <-changed:
		case <-p.done:
			return bytes.Contains(p.Output(), []byte(substr))
		case <-ctx.Done():
			return false
		}
	}
}

// boundedBuffer keeps the first MaxOutput bytes written to it.
type boundedBuffer struct {
	mu        sync.Mutex
	buf       []byte
	truncated bool
	changed   chan struct{} // closed and replaced by each write
}

// changes returns a channel closed by the next write.
func (b *boundedBuffer) changes() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed == nil {
		b.changed = make(chan struct{})
	}
	return b.changed
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	room := MaxOutput - len(b.buf)
	if len(p) > room {
		b.buf = append(b.buf, p[:max(room, 0)]...)
		b.truncated = true
		return len(p), nil
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *boundedBuffer) bytes() ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf...), b.truncated
}
