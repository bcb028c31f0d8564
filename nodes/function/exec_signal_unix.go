//go:build unix

package function

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// execSignal maps a Node.js signal name ("SIGINT") to the signal.
func execSignal(name string) (os.Signal, bool) {
	s := unix.SignalNum(name)
	if s == 0 {
		return nil, false
	}
	return s, true
}

// execShell is the shell child_process.exec uses: /bin/bash on Linux when
// it exists (Node-RED asks for it), /bin/sh otherwise.
func execShell() []string {
	if runtime.GOOS == "linux" {
		if _, err := os.Stat("/bin/bash"); err == nil {
			return []string{"/bin/bash", "-c"}
		}
	}
	return []string{"/bin/sh", "-c"}
}

// execGroup starts the command in a process group of its own, so that
// stopping the flows can end the whole group: a shell's children would
// otherwise live on and keep its output open.
func execGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// execKillGroup sends sig to the command's process group.
func execKillGroup(pid int, sig os.Signal) {
	if s, ok := sig.(syscall.Signal); ok {
		_ = syscall.Kill(-pid, s)
	}
}

// execErrno is the negative errno Node.js reports for a spawn that failed.
func execErrno(err error) (int, bool) {
	var errno syscall.Errno
	if asErrno(err, &errno) {
		return -int(errno), true
	}
	return 0, false
}

// execSignalName is the Node.js name of a signal ("SIGTERM").
func execSignalName(s syscall.Signal) string { return unix.SignalName(s) }
