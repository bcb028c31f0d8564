package mqtt

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func TestMatchTopic(t *testing.T) {
	for _, c := range []struct {
		filter, topic string
		want          bool
	}{
		{"#", "a/b", true},
		{"a/#", "a", true},
		{"a/#", "a/", true},
		{"a/#", "a/b/c", true},
		{"a/#", "ab", false},
		{"a/+", "a/b", true},
		{"a/+", "a/", false}, // Node-RED's "+" needs a character
		{"a/+", "a/b/c", false},
		{"+/b", "a/b", true},
		{"+/+", "a", false},
		{"a/b", "a/b", true},
		{"a/b", "a/b/c", false},
		{"a/+/c/#", "a/x/c", true},
		{"$share/g/a/+", "a/b", true},
		{"$share/g/#", "x/y", true},
		{"a.b", "aXb", false}, // regexp characters are literal
		{"a[1]", "a[1]", true},
	} {
		if got := matchTopic(c.filter, c.topic); got != c.want {
			t.Errorf("matchTopic(%q, %q) = %v", c.filter, c.topic, got)
		}
	}
}

func TestTopicValidation(t *testing.T) {
	for topic, want := range map[string]bool{
		"#": true, "a/#": true, "+": true, "a/+/b": true, "+/+/#": true, "$share/g/a/#": true,
		"a/#/b": false, "a#": false, "a+": false, "a/b+/c": false, "#/a": false,
	} {
		if got := validSubscription(topic); got != want {
			t.Errorf("validSubscription(%q) = %v", topic, got)
		}
	}
	for topic, want := range map[string]bool{
		"a/b": true, "": false, "a/+": false, "a/#": false, "a\tb": false, "a\x00": false, "é/ü": true,
	} {
		if got := validPublish(topic); got != want {
			t.Errorf("validPublish(%q) = %v", topic, got)
		}
	}
}

// The expectations are what Node 22's is-utf8 and Buffer.toString give.
func TestUTF8AsNode(t *testing.T) {
	for _, c := range []struct {
		in     []byte
		isUTF8 bool
		text   string
	}{
		{[]byte{}, true, ""},
		{[]byte{0x41}, true, "A"},
		{[]byte{0x00}, false, "\x00"},
		{[]byte{0x7f}, false, "\x7f"},
		{[]byte{0x09, 0x0a, 0x0d}, true, "\t\n\r"},
		{[]byte{0xc2, 0x80}, true, "\u0080"},
		{[]byte{0xe2, 0x82, 0xac}, true, "€"},
		{[]byte{0xed, 0xa0, 0x80}, false, "\ufffd\ufffd\ufffd"},
		{[]byte{0xf0, 0x9f, 0x98, 0x80}, true, "😀"},
		{[]byte{0xf4, 0x90, 0x80, 0x80}, false, "\ufffd\ufffd\ufffd\ufffd"},
		{[]byte{0xc0, 0x80}, false, "\ufffd\ufffd"},
		{[]byte{0xe2, 0x82}, false, "\ufffd"},
		{[]byte{0xe2, 0x82, 0x41}, false, "\ufffdA"},
		{[]byte{0xff}, false, "\ufffd"},
		{[]byte{0x1b}, false, "\x1b"},
	} {
		if got := isUTF8(c.in); got != c.isUTF8 {
			t.Errorf("isUTF8(% x) = %v", c.in, got)
		}
		if got := decodeUTF8(c.in); got != c.text {
			t.Errorf("decodeUTF8(% x) = %q, want %q", c.in, got, c.text)
		}
	}
}

func TestDecodePayload(t *testing.T) {
	js := func(v any) string { return string(msg.Marshal(v)) }
	for _, c := range []struct {
		datatype, payload string
		v5                bool
		contentType       string
		utf8Flag          bool
		want, err         string
	}{
		{"auto-detect", `{"a":1}`, false, "", false, `{"a":1}`, ""},
		{"auto-detect", `12`, false, "", false, `12`, ""},
		{"auto-detect", `hello`, false, "", false, `"hello"`, ""},
		{"auto-detect", "", false, "", false, `""`, ""},
		{"auto", `{"a":1}`, false, "", false, `"{\"a\":1}"`, ""},
		{"utf8", "\x01", false, "", false, `"\u0001"`, ""},
		{"", "x", false, "", false, `"x"`, ""},
		{"base64", "hi", false, "", false, `"aGk="`, ""},
		{"buffer", "hi", false, "", false, `{"type":"Buffer","data":[104,105]}`, ""},
		{"json", `[1]`, false, "", false, `[1]`, ""},
		{"json", `nope`, false, "", false, "", "Failed to parse JSON string"},
		{"json", "\x00", false, "", false, "", "Invalid JSON string"},
		{"json", "\x00", true, "", true, "", "Failed to parse JSON string"},
		// MQTT 5: the content type decides in the auto modes.
		{"auto-detect", `{"a":1}`, true, "text/plain", false, `"{\"a\":1}"`, ""},
		{"auto-detect", `{"a":1}`, true, "application/json", false, `{"a":1}`, ""},
		{"auto", `{"a":1}`, true, "application/json", false, `"{\"a\":1}"`, ""},
		{"auto-detect", `nope`, true, "APPLICATION/JSON", false, "", "Failed to parse JSON string"},
		{"auto-detect", `[1]`, true, "image/png", false, `{"type":"Buffer","data":[91,49,93]}`, ""},
		{"auto-detect", `[1]`, true, "x/y", false, `[1]`, ""},
		{"auto-detect", "\x01", true, "", true, `"\u0001"`, ""},
		{"auto-detect", "\x01", true, "x/y", false, `{"type":"Buffer","data":[1]}`, ""},
		{"auto-detect", "\x01", false, "text/plain", false, `{"type":"Buffer","data":[1]}`, ""},
	} {
		got, err := decodePayload(c.datatype, []byte(c.payload), c.v5, c.contentType, c.utf8Flag)
		switch {
		case c.err != "":
			if err == nil || err.Error() != c.err {
				t.Errorf("%s %q: error %v, want %s", c.datatype, c.payload, err, c.err)
			}
		case err != nil:
			t.Errorf("%s %q: %v", c.datatype, c.payload, err)
		case js(got) != c.want:
			t.Errorf("%s %q (v5 %v %q): got %s, want %s", c.datatype, c.payload, c.v5, c.contentType, js(got), c.want)
		}
	}
}

func opts(t *testing.T, cfg string) (*brokerOpts, derived) {
	t.Helper()
	v, err := msg.UnmarshalString(cfg)
	if err != nil {
		t.Fatal(err)
	}
	o := &brokerOpts{}
	o.setOptions(v.(*msg.Object), true, map[string]string{"user": "u"})
	return o, o.derive(func() string { return "noderedGEN" })
}

func TestBrokerOptions(t *testing.T) {
	for cfg, want := range map[string]string{
		`{"broker":"example.com","port":1884}`:               "mqtt://example.com:1884",
		`{"broker":"example.com","port":""}`:                 "mqtt://example.com:1883",
		`{"broker":"example.com","usetls":true,"port":8883}`: "mqtts://example.com:8883",
		`{"broker":""}`:                            "mqtt://localhost:1883",
		`{"broker":"::1","port":1883}`:             "mqtt://[::1]:1883",
		`{"broker":"ws://h/mqtt","port":1883}`:     "ws://h:80/mqtt",
		`{"broker":"wss://h:9443/mqtt"}`:           "wss://h:9443/mqtt",
		`{"broker":"mqtts://h"}`:                   "mqtts://h:8883",
		`{"broker":"x","url":"mqtt://other:1999"}`: "mqtt://other:1999",
	} {
		if _, d := opts(t, cfg); d.url != want {
			t.Errorf("%s: url %s, want %s", cfg, d.url, want)
		}
	}
	o, d := opts(t, `{"broker":"h","keepalive":"30","cleansession":false,"protocolVersion":"5","sessionExpiry":"3600","userProps":"{\"a\":\"1\",\"b\":2}",
		"birthTopic":"b","birthPayload":"hi","birthQos":"1","birthRetain":"true","birthMsg":{"contentType":"text/plain","userProps":"{\"x\":\"y\"}","correl":"c","expiry":"10"},
		"willTopic":"w","willMsg":{"delay":"5"},"closeTopic":""}`)
	if d.keepalive != 30*time.Second || !d.clean || d.clientID != "noderedGEN" || !d.generatedID || d.protocol != 5 ||
		d.sessionExp == nil || *d.sessionExp != 3600 || len(d.connectProps) != 2 || d.connectProps[1] != (userProp{"b", "2"}) {
		t.Fatalf("derived %+v", d)
	}
	if len(d.warnings) != 1 || d.warnings[0] != "No client ID set, using clean session" {
		t.Fatalf("warnings %q", d.warnings)
	}
	if b := o.birth; b == nil || b.topic != "b" || string(b.payload) != "hi" || b.qos != 1 || !b.retain ||
		b.v5.contentType != "text/plain" || string(b.v5.correlation) != "c" || *b.v5.expiry != 10 || b.v5.user[0] != (userProp{"x", "y"}) {
		t.Fatalf("birth %+v %+v", b, b.v5)
	}
	if w := o.will; w == nil || w.v5.willDelay == nil || *w.v5.willDelay != 5 || string(w.payload) != "" {
		t.Fatalf("will %+v", w)
	}
	if o.closeMsg != nil || !o.hasUser || o.hasPassword {
		t.Fatalf("close %+v user %v password %v", o.closeMsg, o.hasUser, o.hasPassword)
	}
	_, d = opts(t, `{"broker":"h","compatmode":true,"protocolVersion":5}`)
	if d.protocol != 3 {
		t.Fatalf("compatmode gives MQTT 3.1, got %d", d.protocol)
	}
	// A connect action's msg.broker changes only what it names.
	o, _ = opts(t, `{"broker":"h","port":1884,"clientid":"keep"}`)
	o.setOptions(msg.ObjectOf("broker", "other", "username", "bob", "birth", msg.ObjectOf("topic", "hello", "payload", msg.ObjectOf("a", 1.0))), false, nil)
	if d := o.derive(func() string { return "" }); d.url != "mqtt://other:1884" || d.clientID != "keep" || o.username != "bob" ||
		string(o.birth.payload) != `{"a":1}` {
		t.Fatalf("after msg.broker: %+v %+v", d, o)
	}
}

// outFor is an mqtt out node on a broker that is not connected: prepare
// needs only the protocol version.
func outFor(t *testing.T, cfg string, v5 bool) *outNode {
	t.Helper()
	v, _ := msg.UnmarshalString(cfg)
	n, err := newOut(&node.Config{Raw: v.(*msg.Object)})
	if err != nil {
		t.Fatal(err)
	}
	on := n.(*outNode)
	bcfg := `{"id":"B","broker":"h"}`
	if v5 {
		bcfg = `{"id":"B","broker":"h","protocolVersion":5}`
	}
	bv, _ := msg.UnmarshalString(bcfg)
	b, err := newBroker(&node.Config{Raw: bv.(*msg.Object)})
	if err != nil {
		t.Fatal(err)
	}
	on.b = b.(*broker)
	return on
}

func TestOutPrepare(t *testing.T) {
	for _, c := range []struct {
		node, in string
		v5       bool
		wire     string // topic qos retain payload
		after    string // the message afterwards
		invalid  bool
		err      string
	}{
		{`{"topic":"","qos":"","retain":""}`, `{"topic":"t","payload":{"a":1}}`, false, `t 0 false {"a":1}`, `{"topic":"t","payload":"{\"a\":1}","qos":0,"retain":false}`, false, ""},
		{`{"topic":"fixed","qos":"2","retain":"true"}`, `{"topic":"t","qos":0,"retain":false,"payload":5}`, false, `fixed 2 true 5`, `{"topic":"fixed","qos":2,"retain":true,"payload":"5"}`, false, ""},
		{`{"topic":"","qos":"0"}`, `{"topic":"t","qos":2,"payload":null}`, false, `t 0 false `, "", false, ""},
		{`{"topic":"","retain":"false"}`, `{"topic":"t","qos":"1","retain":"true","payload":true}`, false, `t 1 false true`, "", false, ""},
		{`{"topic":""}`, `{"topic":"t","qos":7,"payload":"x"}`, false, `t 0 false x`, `{"topic":"t","qos":0,"payload":"x","retain":false}`, false, ""},
		{`{"topic":""}`, `{"topic":"a/#","payload":"x"}`, false, "", "", true, ""},
		{`{"topic":""}`, `{"payload":"x"}`, false, "", "", true, ""},
		{`{"topic":""}`, `{"topic":"t"}`, false, "", "", false, ""},
		// MQTT 5: a reply goes to msg.responseTopic when there is no topic.
		{`{"topic":""}`, `{"responseTopic":"r","payload":"x"}`, true, `r 0 false x`, `{"payload":"x","qos":0,"retain":false,"topic":"r"}`, false, ""},
		{`{"topic":"","contentType":"text/plain","userProps":"{\"k\":\"v\"}"}`, `{"topic":"t","payload":"x","contentType":"x/y"}`, true, `t 0 false x`,
			`{"topic":"t","payload":"x","contentType":"text/plain","qos":0,"retain":false,"userProperties":{"k":"v"}}`, false, ""},
		{`{"topic":""}`, `{"topic":"t","payload":"x","correlationData":5}`, true, "", "", false,
			"TypeError: The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received type number (5)"},
	} {
		n := outFor(t, c.node, c.v5)
		v, _ := msg.UnmarshalString(c.in)
		m := msg.Wrap(v.(*msg.Object))
		p, ok, err := n.prepare(m)
		switch {
		case c.err != "":
			if err == nil || err.Error() != c.err {
				t.Errorf("%s: error %v", c.in, err)
			}
			continue
		case err != nil:
			t.Errorf("%s: %v", c.in, err)
			continue
		case c.invalid:
			if ok {
				t.Errorf("%s: want an invalid topic", c.in)
			}
			continue
		case c.wire == "":
			if p != nil {
				t.Errorf("%s: nothing to send, got %+v", c.in, p)
			}
			continue
		case p == nil:
			t.Errorf("%s: nothing sent", c.in)
			continue
		}
		wire := strings.Join([]string{p.topic, msg.ToString(float64(p.qos)), msg.ToString(p.retain), string(p.payload)}, " ")
		if wire != c.wire {
			t.Errorf("%s: sent %q, want %q", c.in, wire, c.wire)
		}
		if c.after != "" {
			m.Delete("_msgid")
			if got := string(msg.Marshal(m.Object)); got != c.after {
				t.Errorf("%s: message afterwards %s, want %s", c.in, got, c.after)
			}
		}
	}
}

func TestUserPropsObject(t *testing.T) {
	got := userPropsObject([]userProp{{"a", "1"}, {"b", "x"}, {"a", "2"}, {"a", "3"}})
	if s := string(msg.Marshal(got)); s != `{"a":"[\"1\",\"2\",\"3\"]","b":"x"}` {
		t.Fatalf("%s", s)
	}
}

// A broker URL that cannot work does not refuse the deploy (Node-RED
// deploys it); the nodes using it say what is wrong.
func TestBadBrokerURLIsAStatus(t *testing.T) {
	h := newHarness(t)
	h.deploy(`{"id":"B","type":"mqtt-broker","broker":"mqtt-tcp://somewhere"},
		{"id":"out","type":"mqtt out","z":"tab","topic":"x","broker":"B"}`, nil)
	st := h.waitStatus("out", "unsupported URL scheme", 5*time.Second)
	if st.Fill != "red" {
		t.Fatalf("status %+v", st)
	}
}
