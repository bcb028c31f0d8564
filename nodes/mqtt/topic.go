package mqtt

import "strings"

// matchTopic reports whether a topic matches a subscription filter, as
// Node-RED's own router does: a $share/<group>/ prefix is dropped, "+" is
// one level (never an empty one), and a trailing "/#" also matches the
// parent level.
func matchTopic(filter, topic string) bool {
	if filter == "#" {
		return true
	}
	if strings.HasPrefix(filter, "$share/") {
		rest := filter[len("$share/"):]
		i := strings.IndexByte(rest, '/')
		if i > 0 && !strings.ContainsAny(rest[:i], "#+") {
			filter = rest[i+1:]
		}
	}
	for {
		fl, frest, fmore := strings.Cut(filter, "/")
		if fl == "#" && !fmore {
			// Node-RED only expands "/#" at the end; a bare "#" filter
			// was handled above, "a#" is literal.
			return true
		}
		tl, trest, tmore := strings.Cut(topic, "/")
		switch fl {
		case "+":
			if tl == "" {
				return false
			}
		default:
			if fl != tl {
				return false
			}
		}
		if !fmore && !tmore {
			return true
		}
		if !tmore {
			// "a/#" matches "a": the rest of the filter must be "#".
			return fmore && frest == "#"
		}
		if !fmore {
			return false
		}
		filter, topic = frest, trest
	}
}

// validSubscription is Node-RED's check for a subscription filter: "#"
// alone or last, "+" as a whole level.
func validSubscription(t string) bool {
	if t == "" {
		return true // the regexp accepts it; callers reject empty topics first
	}
	levels := strings.Split(t, "/")
	for i, l := range levels {
		switch {
		case l == "#":
			if i != len(levels)-1 {
				return false
			}
		case l == "+":
		case strings.ContainsAny(l, "+#"):
			return false
		}
	}
	return true
}

// validPublish is Node-RED's check for a topic to publish to: not empty, no
// wildcards and none of the control characters it rejects.
func validPublish(t string) bool {
	return t != "" && !strings.ContainsAny(t, "+#\b\f\n\r\t\v\x00")
}
