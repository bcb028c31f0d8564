package kafka

import (
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/internal/testpeer"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testpeer.RemoveBinary()
	os.Exit(code)
}

// restartableCluster is kfake on one port and data directory, so that it
// can go away and come back as the same broker.
type restartableCluster struct {
	t      *testing.T
	port   int
	dir    string
	topics []string
	parts  int

	mu sync.Mutex
	c  *kfake.Cluster
}

func newRestartableCluster(t *testing.T, parts int, topics ...string) *restartableCluster {
	t.Helper()
	rc := &restartableCluster{t: t, port: testpeer.FreePort(t), dir: t.TempDir(), topics: topics, parts: parts}
	rc.start()
	t.Cleanup(rc.stop)
	return rc
}

func (rc *restartableCluster) addr() string { return "127.0.0.1:" + strconv.Itoa(rc.port) }

func (rc *restartableCluster) start() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var err error
	for range 50 {
		// The old listener's port may take a moment to be free again.
		rc.c, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(rc.port), kfake.DataDir(rc.dir),
			kfake.SeedTopics(int32(rc.parts), rc.topics...))
		if err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	rc.t.Errorf("kfake on port %d: %v", rc.port, err)
}

func (rc *restartableCluster) stop() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.c != nil {
		rc.c.Close()
		rc.c = nil
	}
}
