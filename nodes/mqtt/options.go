package mqtt

import (
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

// brokerOpts are the mqtt-broker node's settings as Node-RED keeps them on
// the node: raw flow-file values, so that a connect action's msg.broker can
// change any of them and the rest is derived again the same way.
type brokerOpts struct {
	url, broker, port, clientid                            any
	autoConnect, usetls, verifyservercert                  any
	compatmode, protocolVersion, keepalive, cleansession   any
	autoUnsubscribe, userProperties, sessionExpiryInterval any

	username, password    string
	hasUser, hasPassword  bool
	birth, closeMsg, will *outPub
}

// setOptions applies a settings object: the node's own config (init) or a
// connect action's msg.broker, where only the properties present change.
func (o *brokerOpts) setOptions(src *msg.Object, init bool, creds map[string]string) {
	take := func(name string, dst *any) {
		if v, ok := src.Get(name); ok {
			*dst = v
		} else if init {
			*dst = nil
		}
	}
	take("url", &o.url)
	take("broker", &o.broker)
	take("port", &o.port)
	take("clientid", &o.clientid)
	take("autoConnect", &o.autoConnect)
	take("usetls", &o.usetls)
	take("verifyservercert", &o.verifyservercert)
	take("compatmode", &o.compatmode)
	take("protocolVersion", &o.protocolVersion)
	take("keepalive", &o.keepalive)
	take("cleansession", &o.cleansession)
	take("autoUnsubscribe", &o.autoUnsubscribe)
	if v, ok := src.Get("userProperties"); ok {
		o.userProperties = v
	} else if v, ok := src.Get("userProps"); ok {
		o.userProperties = v
	}
	if v, ok := src.Get("sessionExpiry"); ok {
		o.sessionExpiryInterval = v
	} else if v, ok := src.Get("sessionExpiryInterval"); ok {
		o.sessionExpiryInterval = v
	}
	if init {
		// Node-RED reads autoConnect false only when it says so.
		o.autoConnect = !(o.autoConnect == false || o.autoConnect == "false")
		if src.Has("birthTopic") {
			o.birth = makeLWT(src.Value("birthTopic"), src.Value("birthPayload"), src.Value("birthQos"), src.Value("birthRetain"), src.Value("birthMsg"))
		}
		if src.Has("closeTopic") {
			o.closeMsg = makeLWT(src.Value("closeTopic"), src.Value("closePayload"), src.Value("closeQos"), src.Value("closeRetain"), src.Value("closeMsg"))
		}
		if src.Has("willTopic") {
			o.will = makeLWT(src.Value("willTopic"), src.Value("willPayload"), src.Value("willQos"), src.Value("willRetain"), src.Value("willMsg"))
		}
	} else {
		lwt := func(name string) (*outPub, bool) {
			v, ok := src.Get(name)
			if !ok {
				return nil, false
			}
			w, _ := v.(*msg.Object)
			if w == nil {
				w = msg.NewObject(0)
			}
			return makeLWT(w.Value("topic"), w.Value("payload"), w.Value("qos"), w.Value("retain"), w.Value("properties")), true
		}
		if p, ok := lwt("birth"); ok {
			o.birth = p
		}
		if p, ok := lwt("close"); ok {
			o.closeMsg = p
		}
		if p, ok := lwt("will"); ok {
			o.will = p
		}
	}
	if creds != nil {
		o.username, o.hasUser = creds["user"]
		o.password, o.hasPassword = creds["password"]
		o.hasUser = o.hasUser && o.username != ""
		o.hasPassword = o.hasPassword && o.password != ""
	}
	if !init {
		if v, ok := src.Get("username"); ok {
			o.username, o.hasUser = str(v), msg.Truthy(v)
		}
		if v, ok := src.Get("password"); ok {
			o.password, o.hasPassword = str(v), msg.Truthy(v)
		}
	}
}

func str(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	}
	if msg.IsUndefined(v) {
		return ""
	}
	return msg.ToString(v)
}

// makeLWT builds a birth, close or will message as Node-RED does: none
// without a topic, an empty payload by default, and the MQTT 5 properties
// from the editor's names (respTopic, correl, expiry, delay, userProps) or
// MQTT.js's.
func makeLWT(topic, payload, qos, retain, v5opts any) *outPub {
	if !msg.Truthy(topic) {
		return nil
	}
	p := &outPub{topic: str(topic), payload: toPayload(payload), retain: retain == "true" || retain == true}
	if !msg.Truthy(payload) {
		p.payload = []byte{}
	}
	if !msg.Truthy(qos) {
		qos = 0.0
	}
	switch msg.ToNumber(qos) {
	case 1:
		p.qos = 1
	case 2:
		p.qos = 2
	}
	o, _ := v5opts.(*msg.Object)
	if o == nil {
		return p
	}
	pick := func(names ...string) (any, bool) {
		for _, n := range names {
			if v, ok := o.Get(n); ok {
				return v, true
			}
		}
		return nil, false
	}
	props := &pubProps{}
	if v, ok := pick("userProps", "userProperties"); ok {
		switch t := v.(type) {
		case string:
			if jsonObjectText.MatchString(t) {
				if parsed, err := msg.UnmarshalString(t); err == nil {
					props.user = userProps(parsed)
				}
			}
		case *msg.Object:
			props.user = userProps(t)
		}
	}
	if v, ok := pick("contentType"); ok {
		if s, ok := v.(string); ok {
			props.contentType = s
		}
	}
	if v, ok := pick("respTopic", "responseTopic"); ok {
		if s, ok := v.(string); ok {
			props.responseTopic = s
		}
	}
	if v, ok := pick("correl", "correlationData"); ok && msg.Truthy(v) {
		props.correlation = toBuffer(v)
	}
	if v, ok := pick("expiry", "messageExpiryInterval"); ok {
		if n, ok := parseIntJS(v); ok && n >= 0 && n <= math.MaxUint32 {
			u := uint32(n)
			props.expiry = &u
		}
	}
	if v, ok := pick("delay", "willDelayInterval"); ok {
		if n, ok := parseIntJS(v); ok && n >= 0 && n <= math.MaxUint32 {
			u := uint32(n)
			props.willDelay = &u
		}
	}
	p.v5 = props
	return p
}

// jsonObjectText is Node-RED's test for a string worth JSON.parse-ing as
// user properties.
var jsonObjectText = regexp.MustCompile(`^ *{`)

// userProps copies an object's entries as MQTT 5 user properties: strings as
// they are, other values as JSON, null and undefined dropped.
func userProps(v any) []userProp {
	o, ok := v.(*msg.Object)
	if !ok {
		return nil
	}
	var out []userProp
	for i := 0; i < o.Len(); i++ {
		k, val := o.At(i)
		switch t := val.(type) {
		case string:
			out = append(out, userProp{k, t})
		case nil, msg.Undefined:
		default:
			out = append(out, userProp{k, string(msg.Marshal(t))})
		}
	}
	return out
}

// toBuffer is Buffer.from(v) for what Node-RED passes it.
func toBuffer(v any) []byte {
	switch t := v.(type) {
	case []byte:
		return append([]byte(nil), t...)
	case string:
		return []byte(t)
	case []any:
		b := make([]byte, len(t))
		for i, e := range t {
			b[i] = byte(int64(msg.ToNumber(e)))
		}
		return b
	}
	return []byte(str(v))
}

// toPayload converts msg.payload for publishing: null and undefined are
// empty, a Buffer goes as it is, objects and arrays as JSON, anything else
// as its string.
func toPayload(v any) []byte {
	switch t := v.(type) {
	case nil, msg.Undefined:
		return []byte{}
	case []byte:
		return t
	case string:
		return []byte(t)
	case *msg.Object, []any:
		return msg.Marshal(t)
	case bool, float64, int, int64:
		return []byte(msg.ToString(t))
	}
	return msg.Marshal(v)
}

// parseIntJS is JavaScript's parseInt(String(v)) in base 10.
func parseIntJS(v any) (float64, bool) {
	s := strings.TrimLeft(str(v), " \t\n\r\v\f\u00a0\ufeff")
	if v == nil {
		return 0, false
	}
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, false
	}
	if neg {
		f = -f
	}
	return f, true
}

// derived is what the settings come to.
type derived struct {
	url             string
	clientID        string
	generatedID     bool
	keepalive       time.Duration
	clean           bool
	protocol        int
	autoUnsubscribe bool
	usetls          bool
	verify          bool
	connectProps    []userProp
	sessionExp      *uint32
	warnings        []string
}

// ipv6 matches a bare IPv6 address, which a URL needs in brackets.
var ipv6 = regexp.MustCompile(`^[0-9a-fA-F:]*:[0-9a-fA-F:.]*(%[0-9a-zA-Z]+)?$`)

// derive works out the connection settings as Node-RED's setOptions does.
func (o *brokerOpts) derive(newID func() string) derived {
	d := derived{}
	d.usetls = msg.Truthy(o.usetls)
	d.verify = o.verifyservercert == true || o.verifyservercert == "true"
	switch ka := o.keepalive.(type) {
	case nil:
		d.keepalive = 60 * time.Second
	default:
		n := msg.ToNumber(ka)
		if n != n || n < 0 {
			n = 60
		}
		d.keepalive = time.Duration(n * float64(time.Second))
	}
	d.clean = o.cleansession == nil || msg.Truthy(o.cleansession)
	au, isBool := o.autoUnsubscribe.(bool)
	d.autoUnsubscribe = !isBool || au

	switch {
	case msg.Truthy(o.url):
		d.url = str(o.url)
	case strings.Contains(str(o.broker), "://"):
		d.url = str(o.broker)
	default:
		u := "mqtt://"
		if d.usetls {
			u = "mqtts://"
		}
		host := str(o.broker)
		if host == "" {
			u += "localhost:1883"
		} else {
			if ipv6.MatchString(host) {
				host = "[" + host + "]"
			}
			u += host + ":"
			if !msg.Truthy(o.port) {
				u += "1883"
			} else {
				u += str(o.port)
			}
		}
		d.url = u
	}
	d.url = withDefaultPort(d.url)

	d.clientID = str(o.clientid)
	if !d.clean && d.clientID == "" {
		d.clean = true
		d.warnings = append(d.warnings, "No client ID set, using clean session")
	}
	if d.clientID == "" {
		d.clientID = newID()
		d.generatedID = true
	}
	switch {
	case o.compatmode == true || o.compatmode == "true" || looseEq(o.protocolVersion, 3):
		d.protocol = 3
	case looseEq(o.protocolVersion, 5):
		d.protocol = 5
		if s, ok := o.userProperties.(string); ok && jsonObjectText.MatchString(s) {
			if parsed, err := msg.UnmarshalString(s); err == nil {
				d.connectProps = userProps(parsed)
			}
		}
		if se := o.sessionExpiryInterval; msg.Truthy(se) && se != "0" {
			if n, ok := parseIntJS(se); ok && n >= 0 && n <= math.MaxUint32 {
				u := uint32(n)
				d.sessionExp = &u
			}
		}
	default:
		d.protocol = 4
	}
	return d
}

// looseEq is JavaScript's v == n for a number n.
func looseEq(v any, n float64) bool {
	switch t := v.(type) {
	case float64:
		return t == n
	case string:
		return msg.StringToNumber(t) == n
	case bool:
		return (t && n == 1) || (!t && n == 0)
	}
	return false
}

// withDefaultPort adds the scheme's port when the URL has none: MQTT.js
// does, the dialers do not.
func withDefaultPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Port() != "" {
		return raw
	}
	port := ""
	switch strings.ToLower(u.Scheme) {
	case "mqtt", "tcp":
		port = "1883"
	case "mqtts", "ssl", "tls", "tcps", "mqtt+ssl":
		port = "8883"
	case "ws":
		port = "80"
	case "wss":
		port = "443"
	}
	if port == "" {
		return raw
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	u.Host = host + ":" + port
	return u.String()
}

// isTLSURL tells whether a broker URL's scheme runs over TLS.
func isTLSURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "mqtts", "ssl", "tls", "tcps", "mqtt+ssl", "wss":
		return true
	}
	return false
}
