package web

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/runtime/engine"
)

// collector exposes per-node counters from the engine at scrape time, so
// the message path pays nothing for metrics beyond its atomic counters.
type collector struct {
	eng                                      *engine.Engine
	in, out, errs, queued, inflight, deploys *prometheus.Desc
}

func newCollector(e *engine.Engine) *collector {
	labels := []string{"node", "type", "flow", "name"}
	return &collector{
		eng:      e,
		in:       prometheus.NewDesc("sluice_node_messages_in_total", "Messages received by a node.", labels, nil),
		out:      prometheus.NewDesc("sluice_node_messages_out_total", "Messages sent by a node.", labels, nil),
		errs:     prometheus.NewDesc("sluice_node_errors_total", "Errors reported by a node.", labels, nil),
		queued:   prometheus.NewDesc("sluice_node_inbox_depth", "Messages waiting in a node's inbox.", labels, nil),
		inflight: prometheus.NewDesc("sluice_messages_inflight", "Messages queued in all inboxes.", nil, nil),
		deploys:  prometheus.NewDesc("sluice_deploys_total", "Flow deploys since start.", nil, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.in, c.out, c.errs, c.queued, c.inflight, c.deploys} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.eng.Stats() {
		l := []string{s.ID, s.Type, s.Flow, s.Name}
		ch <- prometheus.MustNewConstMetric(c.in, prometheus.CounterValue, float64(s.In), l...)
		ch <- prometheus.MustNewConstMetric(c.out, prometheus.CounterValue, float64(s.Out), l...)
		ch <- prometheus.MustNewConstMetric(c.errs, prometheus.CounterValue, float64(s.Errors), l...)
		ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(s.Queued), l...)
	}
	ch <- prometheus.MustNewConstMetric(c.inflight, prometheus.GaugeValue, float64(c.eng.Inflight()))
	ch <- prometheus.MustNewConstMetric(c.deploys, prometheus.CounterValue, float64(c.eng.Health().Deploys))
}
