package kafka

import (
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/IBM/sarama"
	"github.com/eapache/go-resiliency/breaker"
)

// retriable tells the failures that a broker outage or a leader move
// causes, which are worth sending again, from records the broker refuses.
func retriable(err error) bool {
	var ke sarama.KError
	if errors.As(err, &ke) {
		switch ke {
		case sarama.ErrLeaderNotAvailable, sarama.ErrNotLeaderForPartition, sarama.ErrRequestTimedOut,
			sarama.ErrBrokerNotAvailable, sarama.ErrNetworkException, sarama.ErrNotEnoughReplicas,
			sarama.ErrNotEnoughReplicasAfterAppend, sarama.ErrKafkaStorageError, sarama.ErrNotController,
			sarama.ErrOutOfOrderSequenceNumber, sarama.ErrUnknownProducerID,
			sarama.ErrConsumerCoordinatorNotAvailable, sarama.ErrFencedLeaderEpoch, sarama.ErrUnknownLeaderEpoch:
			return true
		}
		return false
	}
	var ne net.Error
	return errors.Is(err, breaker.ErrBreakerOpen) || errors.Is(err, sarama.ErrOutOfBrokers) ||
		errors.Is(err, sarama.ErrNotConnected) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &ne)
}

// resendDelay is the pause before the n-th resend of one record.
func resendDelay(n int) time.Duration {
	return min(100*time.Millisecond<<min(n, 5), 2*time.Second)
}
