// Package kafka holds the Kafka nodes (kafka-broker, kafka in, kafka out) on
// github.com/IBM/sarama. Records reach the flows at least once: kafka out
// finishes a message only when the broker acknowledged its record, and
// kafka in commits an offset only when the message and everything it fanned
// out into is done.
package kafka

import "github.com/sluicehq/sluice/runtime/node"

var statusConnecting = node.Status{Fill: "yellow", Shape: "ring", Text: "connecting"}
var statusConnected = node.Status{Fill: "green", Shape: "dot", Text: "connected"}

func statusError(reason string) node.Status {
	if len(reason) > 120 {
		reason = reason[:117] + "..."
	}
	return node.Status{Fill: "red", Shape: "ring", Text: reason}
}
