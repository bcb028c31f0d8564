// Package all registers every node type Sluice ships; import it for its
// side effects.
package all

import (
	_ "github.com/sluicehq/sluice/nodes/core"
	_ "github.com/sluicehq/sluice/nodes/function"
	_ "github.com/sluicehq/sluice/nodes/kafka"
	_ "github.com/sluicehq/sluice/nodes/modbus"
	_ "github.com/sluicehq/sluice/nodes/mqtt"
	_ "github.com/sluicehq/sluice/nodes/network"
	_ "github.com/sluicehq/sluice/nodes/opcua"
	_ "github.com/sluicehq/sluice/nodes/parser"
	_ "github.com/sluicehq/sluice/nodes/sequence"
	_ "github.com/sluicehq/sluice/nodes/storage"
)
