// Package proc runs the child processes of the fault-tolerance suite and
// injects process faults into them: SIGKILL, SIGSTOP and SIGCONT, always
// by the pid of a process this package started.
package proc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Spec says how to start a process. Env is the whole environment of the
// child, so settings of the caller's shell never reach it.
type Spec struct {
	Name    string
	Path    string
	Args    []string
	Env     []string
	LogPath string
	// Credential, when set, runs the child as another user.
	Credential *syscall.Credential
}

// Process is one running child. Start it again after it exited with
// Restart.
type Process struct {
	spec Spec

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start starts spec and returns the running process.
func Start(spec Spec) (*Process, error) {
	p := &Process{spec: spec}
	if err := p.start(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Process) start() error {
	log, err := os.OpenFile(p.spec.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open log of %s: %w", p.spec.Name, err)
	}
	cmd := exec.Command(p.spec.Path, p.spec.Args...) // #nosec G204 -- the suite starts the binaries it built and the PostgreSQL and Redis servers it found
	cmd.Env = p.spec.Env
	cmd.Stdout, cmd.Stderr = log, log
	if p.spec.Credential != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.spec.Credential}
	}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return fmt.Errorf("start %s: %w", p.spec.Name, err)
	}

	exited := make(chan struct{})
	go func() {
		// The exit status is read from cmd.ProcessState by the callers.
		_ = cmd.Wait()
		_ = log.Close()
		close(exited)
	}()

	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	return nil
}

// Name returns the name the process was started with.
func (p *Process) Name() string { return p.spec.Name }

// Pid returns the pid of the current run.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Pid
}

// Exited returns a channel that is closed when the current run exits.
func (p *Process) Exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

// Running reports whether the current run has not exited.
func (p *Process) Running() bool {
	select {
	case <-p.Exited():
		return false
	default:
		return true
	}
}

// ExitState describes how the current run ended, or "running".
func (p *Process) ExitState() string {
	if p.Running() {
		return "running"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.ProcessState.String()
}

// Signal sends sig to the current run by its pid.
func (p *Process) Signal(sig syscall.Signal) error {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("send %s to %s (pid %d): %w", sig, p.spec.Name, cmd.Process.Pid, err)
	}
	return nil
}

// Kill sends SIGKILL and waits up to timeout for the exit.
func (p *Process) Kill(timeout time.Duration) error {
	if err := p.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	return p.wait(timeout)
}

// Stop sends SIGTERM, waits up to timeout, and kills the process after
// that. A paused process is resumed first, so that it can exit.
func (p *Process) Stop(timeout time.Duration) error {
	if !p.Running() {
		return nil
	}
	if err := p.Signal(syscall.SIGCONT); err != nil {
		return err
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	if p.wait(timeout) == nil {
		return nil
	}
	if err := p.Kill(timeout); err != nil {
		return err
	}
	return fmt.Errorf("%s (pid %d) did not exit within %s of SIGTERM and was killed", p.spec.Name, p.Pid(), timeout)
}

// Restart starts the process again with the same spec. The current run
// must have exited.
func (p *Process) Restart() error {
	if p.Running() {
		return fmt.Errorf("restart %s: pid %d is still running", p.spec.Name, p.Pid())
	}
	return p.start()
}

func (p *Process) wait(timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.Exited():
		return nil
	case <-timer.C:
		return fmt.Errorf("%s (pid %d) did not exit within %s", p.spec.Name, p.Pid(), timeout)
	}
}
