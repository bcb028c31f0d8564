// Package testpeer starts the real programs tests talk to — mosquitto, the
// sluice binary itself — and measures processes, so that node packages,
// end-to-end tests and benchmarks share one way of doing it.
//
// Every process is started on 127.0.0.1 with a port chosen at run time and
// stopped by PID when the test ends. A peer that is not installed skips the
// test when the CI environment variable is unset and fails it when CI is set:
// CI must run every peer test.
package testpeer
