package opcua

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/ua"
	"github.com/sluicehq/sluice/runtime/node"
)

var secPolicies = []string{"None", "Basic128Rsa15", "Basic256", "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"}
var secModes = map[string]string{"None": "None", "NONE": "None", "Sign": "Sign", "SIGN": "Sign",
	"SignAndEncrypt": "SignAndEncrypt", "SIGNANDENCRYPT": "SignAndEncrypt"}

func init() {
	node.Register(&node.Spec{
		Type: "OpcUa-Endpoint", Category: "config", Config: true,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "endpoint", Kind: node.KindString, Required: true, Label: "Endpoint", Check: checkURL},
			{Name: "secpol", Kind: node.KindString, Default: "None", Label: "SecurityPolicy", Check: checkPolicy},
			{Name: "secmode", Kind: node.KindString, Default: "None", Label: "SecurityMode", Check: checkMode},
			{Name: "none", Kind: node.KindBool, Default: true, Label: "Anonymous"},
			{Name: "login", Kind: node.KindBool, Default: false, Label: "Use credentials"},
			{Name: "usercert", Kind: node.KindBool, Default: false, Label: "User certificate"},
			{Name: "usercertificate", Kind: node.KindString, Default: "", Label: "Certificate file"},
			{Name: "userprivatekey", Kind: node.KindString, Default: "", Label: "Private key file"},
		},
		Credentials: []node.Cred{{Name: "user"}, {Name: "password", Password: true}},
		Help: "One OPC UA server endpoint (`opc.tcp://host:port/path`) and how to connect to it: security policy " +
			"(None, Basic128Rsa15, Basic256, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss), mode (None, " +
			"Sign, SignAndEncrypt), anonymous / user name and password / user certificate. Every node using it shares one " +
			"session, re-established with back-off after a disconnect; subscriptions are re-created. With security other " +
			"than None the client certificate is generated once and kept under `<userDir>/opcua/pki` (application URI " +
			"`" + appURI + "`); the server must trust it.",
		New: newEndpoint,
	})
}

func checkURL(v any, _ *node.Config) error {
	s, _ := v.(string)
	if s == "" {
		return fmt.Errorf("endpoint is required")
	}
	if len(s) < 10 || s[:10] != "opc.tcp://" {
		return fmt.Errorf("endpoint %q must start with opc.tcp://", s)
	}
	return nil
}

func checkPolicy(v any, _ *node.Config) error {
	s, _ := v.(string)
	if s == "" {
		return nil
	}
	for _, p := range secPolicies {
		if p == s {
			return nil
		}
	}
	return fmt.Errorf("security policy %q is not supported (%v)", s, secPolicies)
}

func checkMode(v any, _ *node.Config) error {
	s, _ := v.(string)
	if _, ok := secModes[s]; !ok && s != "" {
		return fmt.Errorf("security mode %q is not supported (None, Sign, SignAndEncrypt)", s)
	}
	return nil
}

// Back-off between connection attempts; tests shorten it.
var (
	reconnectMin = time.Second
	reconnectMax = 30 * time.Second
)

// requestTimeout bounds one service call; connectWait how long a request
// waits for a session being (re)established before it fails.
const (
	requestTimeout = 10 * time.Second
	connectWait    = 10 * time.Second
)

// Endpoint is an OpcUa-Endpoint config node: one session shared by its
// nodes.
type Endpoint struct {
	id, url, policy, mode string
	login                 bool
	user, pass            string
	usercert              bool
	userCert, userKey     string

	pki string

	mu     sync.Mutex
	cl     *opcua.Client
	ready  chan struct{} // closed while a session is up
	state  string
	err    error
	users  map[string]func(state string, err error)
	onConn map[any]func(*opcua.Client)
	dtypes map[string]ua.TypeID // DataType of written nodes, looked up once

	stop, done chan struct{}
}

func newEndpoint(cfg *node.Config) (node.Node, error) {
	e := &Endpoint{id: cfg.ID(), url: cfg.Str("endpoint"), policy: cfg.StrOr("secpol", "None"),
		mode: secModes[cfg.StrOr("secmode", "None")], login: cfg.Bool("login", false),
		usercert: cfg.Bool("usercert", false), userCert: cfg.Str("usercertificate"), userKey: cfg.Str("userprivatekey"),
		ready: make(chan struct{}), state: "connecting", users: map[string]func(string, error){},
		onConn: map[any]func(*opcua.Client){}, dtypes: map[string]ua.TypeID{}}
	if err := checkURL(e.url, cfg); err != nil {
		return nil, node.BadProp("endpoint", e.url, "%v", err)
	}
	if err := checkPolicy(e.policy, cfg); err != nil {
		return nil, node.BadProp("secpol", e.policy, "%v", err)
	}
	if e.mode == "" {
		return nil, node.BadProp("secmode", cfg.Get("secmode"), "security mode must be None, Sign or SignAndEncrypt")
	}
	if (e.policy == "None") != (e.mode == "None") {
		return nil, node.BadProp("secmode", e.mode, "security policy %s and mode %s do not go together (both None, or neither)", e.policy, e.mode)
	}
	if e.login && e.usercert {
		return nil, node.BadProp("usercert", true, "use credentials and user certificate cannot both be on")
	}
	if cfg.Creds != nil {
		e.user, e.pass = cfg.Creds["user"], cfg.Creds["password"]
	}
	if e.login && e.user == "" {
		return nil, node.BadProp("login", true, "use credentials is on but no user is set")
	}
	return e, nil
}

// Start opens the session in the background.
func (e *Endpoint) Start(c node.Ctx) error {
	if v, ok := c.Setting("userDir"); ok {
		if s, ok := v.(string); ok && s != "" {
			e.pki = filepath.Join(s, "opcua", "pki")
		}
	}
	if e.pki == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			dir = os.TempDir()
		}
		e.pki = filepath.Join(dir, "sluice", "opcua", "pki")
	}
	if e.user == "" {
		creds := c.Credentials()
		e.user, e.pass = creds["user"], creds["password"]
	}
	e.stop, e.done = make(chan struct{}), make(chan struct{})
	go e.run()
	return nil
}

// Close ends the session.
func (e *Endpoint) Close(ctx context.Context, removed bool) error {
	if e.stop == nil {
		return nil
	}
	close(e.stop)
	select {
	case <-e.done:
	case <-ctx.Done():
	}
	return nil
}

// watch registers a node for state changes and reports the state at once.
func (e *Endpoint) watch(id string, f func(state string, err error)) {
	e.mu.Lock()
	e.users[id] = f
	st, err := e.state, e.err
	e.mu.Unlock()
	f(st, err)
}

func (e *Endpoint) unwatch(id string) {
	e.mu.Lock()
	delete(e.users, id)
	e.mu.Unlock()
}

// onConnect calls f with every new session (and with the current one, if
// up); subscriptions re-create themselves this way.
func (e *Endpoint) onConnect(key any, f func(*opcua.Client)) {
	e.mu.Lock()
	e.onConn[key] = f
	cl := e.cl
	e.mu.Unlock()
	if cl != nil {
		go f(cl)
	}
}

// onReconnect calls f with every later session only.
func (e *Endpoint) onReconnect(key any, f func(*opcua.Client)) {
	e.mu.Lock()
	e.onConn[key] = f
	e.mu.Unlock()
}

func (e *Endpoint) offConnect(key any) {
	e.mu.Lock()
	delete(e.onConn, key)
	e.mu.Unlock()
}

func (e *Endpoint) setState(st string, err error, cl *opcua.Client) {
	e.mu.Lock()
	e.state, e.err = st, err
	var conn []func(*opcua.Client)
	if st == "connected" {
		e.cl = cl
		close(e.ready)
		for _, f := range e.onConn {
			conn = append(conn, f)
		}
	} else if e.cl != nil {
		e.cl = nil
		e.ready = make(chan struct{})
	}
	fs := make([]func(string, error), 0, len(e.users))
	for _, f := range e.users {
		fs = append(fs, f)
	}
	e.mu.Unlock()
	for _, f := range fs {
		f(st, err)
	}
	for _, f := range conn {
		go f(cl)
	}
}

// client returns the session's client, waiting a while for one being
// established.
func (e *Endpoint) client(ctx context.Context) (*opcua.Client, error) {
	e.mu.Lock()
	cl, ready := e.cl, e.ready
	e.mu.Unlock()
	if cl != nil {
		return cl, nil
	}
	t := time.NewTimer(connectWait)
	defer t.Stop()
	select {
	case <-ready:
	case <-t.C:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	e.mu.Lock()
	cl, st, err := e.cl, e.state, e.err
	e.mu.Unlock()
	if cl == nil {
		if err != nil {
			return nil, fmt.Errorf("OpcUa-Endpoint %s (%s): not connected: %v", e.id, e.url, err)
		}
		return nil, fmt.Errorf("OpcUa-Endpoint %s (%s): not connected (%s)", e.id, e.url, st)
	}
	return cl, nil
}

func (e *Endpoint) run() {
	defer close(e.done)
	backoff := reconnectMin
	for {
		e.setState("connecting", nil, nil)
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		go func() {
			select {
			case <-e.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		cl, states, err := e.dial(ctx)
		cancel()
		if err != nil {
			e.setState("error", err, nil)
			if !e.sleep(backoff) {
				return
			}
			backoff = min(backoff*2, reconnectMax)
			continue
		}
		backoff = reconnectMin
		e.setState("connected", nil, cl)
		lost := e.watchConn(cl, states)
		cctx, ccancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = cl.Close(cctx)
		ccancel()
		if !lost {
			e.setState("closed", nil, nil)
			return
		}
		e.setState("error", fmt.Errorf("connection to %s lost", e.url), nil)
		if !e.sleep(backoff) {
			return
		}
	}
}

// keepAlive is how often an idle session is checked: a server that
// vanished without closing the TCP connection (power loss, a cut cable)
// is only noticed by asking it something.
var keepAlive = 5 * time.Second

// watchConn waits for the session to drop (true) or the node to stop.
func (e *Endpoint) watchConn(cl *opcua.Client, states <-chan opcua.ConnState) bool {
	t := time.NewTicker(keepAlive)
	defer t.Stop()
	misses := 0
	for {
		select {
		case <-e.stop:
			return false
		case s := <-states:
			if s == opcua.Disconnected || s == opcua.Closed {
				return true
			}
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), keepAlive)
			// Server_ServerStatus_CurrentTime
			_, err := cl.Read(ctx, &ua.ReadRequest{NodesToRead: []*ua.ReadValueID{{NodeID: ua.NewNumericNodeID(0, 2258), AttributeID: ua.AttributeIDValue}}})
			cancel()
			if err == nil {
				misses = 0
				continue
			}
			if misses++; misses >= 2 {
				return true
			}
		}
	}
}

func (e *Endpoint) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-e.stop:
		return false
	case <-t.C:
		return true
	}
}

func (e *Endpoint) dial(ctx context.Context) (*opcua.Client, <-chan opcua.ConnState, error) {
	states := make(chan opcua.ConnState, 16)
	opts := []opcua.Option{
		opcua.AutoReconnect(false), opcua.StateChangedCh(states),
		opcua.RequestTimeout(requestTimeout), opcua.DialTimeout(5 * time.Second),
		opcua.SessionTimeout(5 * time.Minute), opcua.SessionName("sluice " + e.id),
		opcua.ApplicationName("Sluice"), opcua.ApplicationURI(appURI),
	}
	authType := ua.UserTokenTypeAnonymous
	switch {
	case e.login:
		opts = append(opts, opcua.AuthUsername(e.user, e.pass))
		authType = ua.UserTokenTypeUserName
	case e.usercert:
		cert, key, err := loadPair(e.userCert, e.userKey)
		if err != nil {
			return nil, nil, fmt.Errorf("OpcUa-Endpoint %s: user certificate: %v", e.id, err)
		}
		opts = append(opts, opcua.AuthCertificate(cert), opcua.AuthPrivateKey(key))
		authType = ua.UserTokenTypeCertificate
	default:
		opts = append(opts, opcua.AuthAnonymous())
	}
	eps, err := opcua.GetEndpoints(ctx, e.url)
	if err != nil {
		return nil, nil, fmt.Errorf("OpcUa-Endpoint %s: get endpoints of %s: %v", e.id, e.url, err)
	}
	ep, err := opcua.SelectEndpoint(eps, e.policy, ua.MessageSecurityModeFromString(e.mode))
	if err != nil {
		return nil, nil, fmt.Errorf("OpcUa-Endpoint %s: %s offers no endpoint with policy %s and mode %s", e.id, e.url, e.policy, e.mode)
	}
	if e.policy != "None" {
		cert, key, err := e.ownCert()
		if err != nil {
			return nil, nil, fmt.Errorf("OpcUa-Endpoint %s: client certificate: %v", e.id, err)
		}
		if u := certURI(cert); u != "" {
			opts = append(opts, opcua.ApplicationURI(u))
		}
		opts = append(opts, opcua.Certificate(cert), opcua.PrivateKey(key))
	}
	opts = append(opts, opcua.SecurityFromEndpoint(ep, authType))
	cl, err := opcua.NewClient(e.url, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("OpcUa-Endpoint %s: %v", e.id, err)
	}
	if err := cl.Connect(ctx); err != nil {
		_ = cl.Close(context.Background())
		var sc ua.StatusCode
		if errors.As(err, &sc) {
			return nil, nil, fmt.Errorf("OpcUa-Endpoint %s: connect to %s: %s", e.id, e.url, statusText(sc))
		}
		return nil, nil, fmt.Errorf("OpcUa-Endpoint %s: connect to %s: %v", e.id, e.url, err)
	}
	return cl, states, nil
}

// ownCert is the application certificate of the session: generated once
// per user directory. (The package's per-client-node certificate files do
// not apply: the session is shared by the endpoint's nodes.)
func (e *Endpoint) ownCert() ([]byte, *rsa.PrivateKey, error) {
	return clientCert(e.pki)
}

// dataType returns the built-in type of a variable, read once per node id;
// writes without a datatype use it.
func (e *Endpoint) dataType(ctx context.Context, cl *opcua.Client, id *ua.NodeID) (ua.TypeID, error) {
	key := id.String()
	e.mu.Lock()
	t, ok := e.dtypes[key]
	e.mu.Unlock()
	if ok {
		return t, nil
	}
	res, err := cl.Read(ctx, &ua.ReadRequest{NodesToRead: []*ua.ReadValueID{{NodeID: id, AttributeID: ua.AttributeIDValue}}})
	if err != nil {
		return 0, err
	}
	if len(res.Results) == 0 {
		return 0, fmt.Errorf("no result")
	}
	r := res.Results[0]
	if !isGood(r.Status) {
		return 0, fmt.Errorf("%s", statusText(r.Status))
	}
	if r.Value == nil || r.Value.Type() == ua.TypeIDNull {
		return 0, fmt.Errorf("node %s holds no value; give a datatype", nodeIDString(id))
	}
	t = r.Value.Type()
	e.mu.Lock()
	e.dtypes[key] = t
	e.mu.Unlock()
	return t, nil
}
