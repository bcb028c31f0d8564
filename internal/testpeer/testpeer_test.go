package testpeer

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	RemoveBinary()
	if code != 0 {
		os.Exit(code)
	}
}

func TestMosquittoPubSubAndRestart(t *testing.T) {
	m := StartMosquitto(t, "")
	s := m.Sub("-t", "a/#", "-v")
	m.Pub("-t", "a/b", "-m", "hello")
	if got := s.Next(5 * time.Second); got != "a/b hello" {
		t.Fatalf("got %q", got)
	}
	m.Restart()
	if !WaitDial(m.Addr(), time.Second) {
		t.Fatal("broker not back on its port")
	}
	s2 := m.Sub("-t", "x")
	s2.None(200 * time.Millisecond)
}

func TestRunSluiceHealthyAndMeasured(t *testing.T) {
	s := RunSluice(t, []byte(`[{"id":"t","type":"tab"},{"id":"i","type":"inject","z":"t","once":true,"wires":[]}]`), nil)
	u := s.Usage()
	if u.HWMKB <= 0 || u.RSSKB <= 0 {
		t.Fatalf("usage %+v", u)
	}
	s.Stop()
	select {
	case <-s.Exited():
	default:
		t.Fatal("not stopped")
	}
	if strings.Contains(s.Logs.String(), "panic") {
		t.Fatalf("logs:\n%s", s.Logs.String())
	}
}
