// Package opcua implements the node types of node-red-contrib-opcua
// (OpcUa-Endpoint, OpcUa-Item, OpcUa-Client, OpcUa-Browser) on
// github.com/gopcua/opcua, with the package's type names, properties and
// message shapes, so flows built with it run unchanged.
//
// Deliberate differences: one session per OpcUa-Endpoint shared by every
// node using it (the package opens one per node), re-established with
// back-off and with subscriptions re-created; failed requests go to catch
// nodes; node ids and timestamps are strings (node-opcua hands out objects
// whose JSON form is the same text).
package opcua
