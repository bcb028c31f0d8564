package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/pprof/profile"
)

// SLUICE_CPUPROFILE leaves a profile pprof reads, whatever the command.
func TestCPUProfileWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.prof")
	cmd := exec.Command(binary, "validate", "../../flows/hello.json")
	cmd.Env = append(os.Environ(), "SLUICE_CPUPROFILE="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatalf("not a profile: %v", err)
	}
	if len(p.SampleType) == 0 || p.SampleType[0].Type != "samples" {
		t.Fatalf("sample types %v", p.SampleType)
	}
}
