package node

import (
	"crypto/tls"
	"fmt"
)

// TLSProvider is what a tls-config node offers the nodes that name it.
type TLSProvider interface {
	TLSConfig() (*tls.Config, error)
}

// TLSConfigOf resolves the tls-config node a node names in its "tls"
// property; the error names the property and the node id.
func TLSConfigOf(c Ctx, id string) (*tls.Config, error) {
	n, ok := c.ConfigNode(id)
	if !ok {
		return nil, fmt.Errorf("property \"tls\": tls-config node %q is not deployed", id)
	}
	p, ok := n.(TLSProvider)
	if !ok {
		return nil, fmt.Errorf("property \"tls\": node %q is not a tls-config node", id)
	}
	conf, err := p.TLSConfig()
	if err != nil {
		return nil, fmt.Errorf("property \"tls\": tls-config node %q: %w", id, err)
	}
	return conf, nil
}
