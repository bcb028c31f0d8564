package opcua

import (
	"fmt"
	"strings"

	"github.com/gopcua/opcua/ua"
)

// symbolic are the names node-opcua's coerceNodeId accepts for
// well-known nodes, which flows use as topics.
var symbolic = map[string]uint32{
	"RootFolder": 84, "ObjectsFolder": 85, "TypesFolder": 86, "ViewsFolder": 87,
	"Server": 2253, "ServerStatus": 2256, "BaseEventType": 2041,
}

// splitTopic takes the package's "ns=2;s=Tag;datatype=Double" form apart.
func splitTopic(topic string) (id, datatype string) {
	if i := strings.Index(topic, ";datatype="); i >= 0 {
		return topic[:i], topic[i+len(";datatype="):]
	}
	if strings.HasPrefix(topic, "datatype=") {
		return "", topic[len("datatype="):]
	}
	return topic, ""
}

// parseNodeID accepts what node-opcua's coerceNodeId accepts in practice:
// "ns=2;s=Tag", "i=85", "ns=0;i=85", "ns=3;g=...", "ns=1;b=..." and the
// symbolic names of well-known nodes.
func parseNodeID(s string) (*ua.NodeID, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("empty node id")
	}
	if n, ok := symbolic[s]; ok {
		return ua.NewNumericNodeID(0, n), nil
	}
	rest := s
	if strings.HasPrefix(rest, "ns=") {
		if i := strings.IndexByte(rest, ';'); i > 0 {
			rest = rest[i+1:]
		}
	}
	if len(rest) < 2 || rest[1] != '=' || !strings.ContainsRune("isgb", rune(rest[0])) {
		return nil, fmt.Errorf("invalid node id %q: want ns=<namespace>;<i|s|g|b>=<identifier>", s)
	}
	id, err := ua.ParseNodeID(s)
	if err != nil {
		return nil, fmt.Errorf("invalid node id %q: %v", s, err)
	}
	return id, nil
}

// nodeIDString prints a node id as node-opcua's NodeId.toString does:
// the namespace always present ("ns=0;i=85").
func nodeIDString(id *ua.NodeID) string {
	if id == nil {
		return ""
	}
	s := id.String()
	if !strings.HasPrefix(s, "ns=") {
		s = "ns=0;" + s
	}
	return s
}

func expandedString(id *ua.ExpandedNodeID) string {
	if id == nil {
		return ""
	}
	return nodeIDString(id.NodeID)
}

// browsePathOf reads the package's "br=/Objects/3:Simulation/3:Counter"
// form: qualified names (ns:Name, namespace 0 when absent) below the
// root folder along hierarchical references.
func browsePathOf(s string) (*ua.BrowsePath, error) {
	p := strings.TrimPrefix(s, "br=")
	var elems []*ua.RelativePathElement
	for _, part := range strings.Split(strings.Trim(p, "/"), "/") {
		if part == "" {
			return nil, fmt.Errorf("invalid browse path %q", s)
		}
		qn := &ua.QualifiedName{Name: part}
		if i := strings.IndexByte(part, ':'); i > 0 {
			var ns uint16
			if _, err := fmt.Sscanf(part[:i], "%d", &ns); err == nil {
				qn = &ua.QualifiedName{NamespaceIndex: ns, Name: part[i+1:]}
			}
		}
		elems = append(elems, &ua.RelativePathElement{ReferenceTypeID: ua.NewNumericNodeID(0, 33),
			IncludeSubtypes: true, TargetName: qn})
	}
	return &ua.BrowsePath{StartingNode: ua.NewNumericNodeID(0, 84), RelativePath: &ua.RelativePath{Elements: elems}}, nil
}
