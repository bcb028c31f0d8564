//go:build !unix

package function

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
)

// execSignal: without Unix signals only a kill can be sent.
func execSignal(name string) (os.Signal, bool) {
	switch name {
	case "SIGKILL", "SIGTERM", "SIGINT":
		return os.Kill, true
	}
	return nil, false
}

func execShell() []string {
	if runtime.GOOS == "windows" {
		return []string{"cmd.exe", "/d", "/s", "/c"}
	}
	return []string{"/bin/sh", "-c"}
}

func execGroup(cmd *exec.Cmd) {}

func execKillGroup(pid int, sig os.Signal) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

func execErrno(err error) (int, bool) { return 0, false }

func execSignalName(s syscall.Signal) string { return "SIGKILL" }
