package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sluicehq/sluice/runtime/creds"
	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/flowfile"
	"github.com/sluicehq/sluice/runtime/mqttbroker"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
	"github.com/sluicehq/sluice/runtime/settings"
	"github.com/sluicehq/sluice/web"
)

func cmdRun(args []string) int {
	fl := flag.NewFlagSet("run", flag.ContinueOnError)
	port := fl.String("p", "", "port to listen on (settings uiPort, default 1880)")
	fl.StringVar(port, "port", "", "same as -p")
	userDir := fl.String("u", "", "user directory (default ~/.sluice)")
	fl.StringVar(userDir, "userDir", "", "same as -u")
	host := fl.String("host", "", "address to listen on (settings uiHost, default 127.0.0.1)")
	settingsFile := fl.String("s", "", "settings file (default settings.yaml in the user directory)")
	fl.StringVar(settingsFile, "settings", "", "same as -s")
	safe := fl.Bool("safe", false, "safe mode: serve, but start no flow")
	headless := fl.Bool("headless", false, "no editor and no admin API")
	mqttListen := fl.String("mqtt-listen", "", "run an embedded MQTT broker on host:port or ws://host:port, comma-separated (settings mqttListen)")
	readonly := fl.Bool("flows-readonly", false, "refuse deploys from the editor and the admin API; the flows still run (settings flowsReadonly)")
	insecure := fl.Bool("insecure", false, "allow serving the editor and admin API on a non-loopback address without adminAuth")
	certFile := fl.String("https-cert", "", "TLS certificate file (PEM); with --https-key serves HTTPS (settings https.cert)")
	keyFile := fl.String("https-key", "", "TLS private key file (PEM) (settings https.key)")
	var origins stringList
	fl.Var(&origins, "allow-origin", "a browser origin (https://host:port) allowed to open the editor websocket besides the server's own; repeatable")
	pos, err := parseInterleaved(fl, args)
	if err != nil {
		return 2
	}
	if len(pos) > 1 {
		fmt.Fprintln(os.Stderr, "sluice run: one flow file at most")
		return 2
	}
	dir := *userDir
	if dir == "" {
		dir = os.Getenv("SLUICE_USER_DIR")
	}
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			fmt.Fprintln(os.Stderr, "sluice: no home directory; give one with -u:", err)
			return 1
		}
		dir = filepath.Join(home, ".sluice")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "sluice: user directory:", err)
		return 1
	}
	if len(pos) == 0 && *settingsFile == "" && fresh(dir) {
		port, err := seedUserDir(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sluice: cannot write the starter flow:", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "sluice: new user directory %s: wrote a starter flow and turned on the built-in MQTT broker on 127.0.0.1:%d\n", dir, port)
	}
	st, err := settings.Load(dir, *settingsFile)
	if err == nil {
		err = st.ApplyEnv(os.Environ())
	}
	if err == nil && *port != "" {
		err = st.Apply("uiPort", *port)
	}
	if err == nil && *host != "" {
		err = st.Apply("uiHost", *host)
	}
	if err == nil && *mqttListen != "" {
		err = st.Apply("mqttListen", *mqttListen)
	}
	if err == nil && *readonly {
		err = st.Apply("flowsReadonly", "true")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sluice: settings:", err)
		return 1
	}
	log := newLogger(st)
	slog.SetDefault(log)
	for _, ign := range st.Ignored {
		log.Warn("setting not used by Sluice", "setting", ign)
	}
	listenHost := str(st, "uiHost", "127.0.0.1")
	addr := net.JoinHostPort(listenHost, str(st, "uiPort", "1880"))
	adminServed := !*headless && str(st, "httpAdminRoot", "/") != "false"
	if adminServed && st.Auth == nil && !isLoopback(listenHost) && !*insecure {
		log.Error("refusing to serve the editor and admin API on " + listenHost + " without adminAuth: anyone who reaches the port could deploy flows (and run code). " +
			"Set adminAuth in the settings file, listen on 127.0.0.1, run --headless, or pass --insecure if the network is trusted")
		return 1
	}
	if len(st.MQTTListen) > 0 {
		// Up before the flows, which may connect to it; down after them, so
		// their close messages still go out.
		mb, err := mqttbroker.Start(st.MQTTListen, log, brokerAuth(st.Auth))
		if err != nil {
			log.Error("cannot start the MQTT broker", "err", err)
			return 1
		}
		defer func() {
			if err := mb.Close(); err != nil {
				log.Warn("stopping the MQTT broker", "err", err)
			}
		}()
		log.Info("MQTT broker running", "listen", strings.Join(mb.Addrs(), " "))
	}

	flowPath := ""
	if len(pos) == 1 {
		flowPath, _ = filepath.Abs(pos[0])
	} else {
		ff := str(st, "flowFile", "flows.json")
		if filepath.IsAbs(ff) {
			flowPath = ff
		} else {
			flowPath = filepath.Join(dir, ff)
		}
	}
	secret := creds.Secret{}
	if v, ok := st.Get("credentialSecret"); ok {
		switch t := v.(type) {
		case bool:
			secret.Disabled = !t
		case string:
			secret.Value = t
		}
	}
	credStore, err := creds.Open(dir, creds.CredFile(flowPath), secret)
	if err != nil {
		log.Error("cannot open credentials", "err", err)
		return 1
	}
	for _, w := range credStore.Warnings {
		log.Warn(w)
	}

	eng, err := engine.New(engine.Options{UserDir: dir, Logger: log, Settings: st})
	if err != nil {
		log.Error("cannot start the runtime", "err", err)
		return 1
	}
	current := []byte("[]")
	data, err := os.ReadFile(flowPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		log.Warn("flow file not found; starting with no flows", "file", flowPath)
	case err != nil:
		log.Error("cannot read the flow file", "file", flowPath, "err", err)
		return 1
	default:
		current = data
	}
	if *safe {
		log.Warn("safe mode: flows are loaded but not started", "file", flowPath)
		if set, err := flow.Parse(current); err == nil {
			reportProblems(log, eng.Validate(set, credMap(credStore.Creds, set)))
		}
	} else if len(current) > 0 {
		set, err := flow.Parse(current)
		if err != nil {
			log.Error("flows refused", "file", flowPath, "err", err)
			return 1
		}
		if err := eng.DeploySet(set, credMap(credStore.Creds, set)); err != nil {
			var le *flow.LoadError
			if errors.As(err, &le) {
				log.Error("flows refused", "file", flowPath, "problems", len(flow.Errors(le.Problems)))
				reportProblems(log, le.Problems)
				return 1
			}
			log.Error("flows started with errors", "err", err)
		}
	}

	// mu guards what deploys change and the admin API reads meanwhile.
	var mu sync.Mutex
	wopts := web.Options{
		Addr: addr, Headless: *headless, Logger: log,
		AdminRoot: str(st, "httpAdminRoot", "/"), NodeRoot: str(st, "httpNodeRoot", "/"),
		StaticDir: str(st, "httpStatic", ""), NodeRoutes: eng.HTTP().(*engine.Router),
		Auth: st.Auth, ReadOnly: st.FlowsReadonly, MaxRequest: st.APIMaxLength, AllowedOrigins: origins,
		CurrentFlows: func() []byte {
			mu.Lock()
			defer mu.Unlock()
			return current
		},
		Credentials: func() creds.Creds {
			mu.Lock()
			defer mu.Unlock()
			return credStore.Creds
		},
		Deploy: func(d web.Deployment) error {
			set, err := flow.Parse(d.Flows)
			if err != nil {
				return err
			}
			if err := eng.Redeploy(set, credMap(d.Creds, set), d.Type); err != nil {
				var le *flow.LoadError
				if errors.As(err, &le) {
					return err // refused: nothing changed
				}
				// Deployed, but some node failed to start (its error is in
				// the log and its status): the flows run, so save them.
				log.Warn("flows deployed with start errors", "err", err)
			}
			body := d.Flows
			if f, err := flowfile.Format(body); err == nil {
				body = f // the canonical, git-friendly form
			}
			if err := writeWithBackup(flowPath, body); err != nil {
				return fmt.Errorf("flows deployed but not saved to %s: %w", flowPath, err)
			}
			mu.Lock()
			defer mu.Unlock()
			current = body
			if d.CredsChanged || credStore.Dirty {
				credStore.Creds = d.Creds
				if err := credStore.Save(); err != nil {
					return fmt.Errorf("flows deployed but credentials not saved to %s: %w", credStore.Path, err)
				}
			}
			return nil
		},
	}
	if c, ok := st.Get("httpNodeCors"); ok {
		if o, ok := c.(*msg.Object); ok {
			wopts.CORS = &web.CORS{Origin: msg.ToString(o.Value("origin")), Methods: msg.ToString(o.Value("methods"))}
		}
	}
	if wopts.NodeAuth, err = basicAuth(st.HTTPNodeAuth, "httpNodeAuth"); err == nil {
		wopts.StaticAuth, err = basicAuth(st.HTTPStaticAuth, "httpStaticAuth")
	}
	if err == nil && st.HTTPAdminAuth != nil && adminServed {
		err = errors.New("httpAdminAuth (basic auth for the admin API, deprecated in Node-RED) is not supported: use adminAuth")
	}
	if err != nil {
		log.Error("settings: " + err.Error())
		_ = eng.Close(context.Background())
		return 1
	}
	tlsCfg, err := tlsConfig(st.HTTPS, *certFile, *keyFile)
	if err != nil {
		log.Error("https: "+err.Error(), "cert", *certFile, "key", *keyFile)
		_ = eng.Close(context.Background())
		return 1
	}
	wopts.TLS = tlsCfg
	srv := web.New(eng, wopts)
	bound, err := srv.Listen()
	if err != nil {
		log.Error("cannot listen", "addr", addr, "err", err)
		_ = eng.Close(context.Background())
		return 1
	}
	scheme := "http"
	if wopts.TLS != nil {
		scheme = "https"
	}
	log.Info("server running", "url", fmt.Sprintf("%s://%s/", scheme, bound.String()))

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve() }()
	code := 0
	select {
	case s := <-sigs:
		log.Info("stopping", "signal", s.String())
	case err := <-serveErr:
		log.Error("server failed", "err", err)
		code = 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	if err := eng.Close(ctx); err != nil {
		log.Error("stopped with errors", "err", err)
	}
	log.Info("stopped")
	return code
}

// isLoopback reports whether a listen host is reachable from this machine
// only.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// tlsConfig loads the key pair from flags (both or neither) or settings
// https (files or PEM text); nil serves plain HTTP.
func tlsConfig(h *settings.HTTPS, certFile, keyFile string) (*tls.Config, error) {
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("give both --https-cert and --https-key")
	}
	var cert tls.Certificate
	var err error
	switch {
	case certFile != "":
		cert, err = tls.LoadX509KeyPair(certFile, keyFile)
	case h != nil:
		certPEM, keyPEM := h.Cert, h.Key
		if certPEM == nil {
			if certPEM, err = os.ReadFile(h.CertFile); err != nil {
				return nil, fmt.Errorf("certificate: %w", err)
			}
		}
		if keyPEM == nil {
			if keyPEM, err = os.ReadFile(h.KeyFile); err != nil {
				return nil, fmt.Errorf("key: %w", err)
			}
		}
		cert, err = tls.X509KeyPair(certPEM, keyPEM)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot load the key pair: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// basicAuth reads Node-RED's {user, pass} form, pass a bcrypt hash.
func basicAuth(o *msg.Object, name string) (*web.BasicAuth, error) {
	if o == nil {
		return nil, nil
	}
	user, _ := o.Value("user").(string)
	pass, _ := o.Value("pass").(string)
	if user == "" || pass == "" {
		return nil, fmt.Errorf("%s needs user and pass (a bcrypt hash from sluice hash-password)", name)
	}
	if _, err := bcrypt.Cost([]byte(pass)); err != nil {
		return nil, fmt.Errorf("%s.pass must be a bcrypt hash (sluice hash-password makes one): %v", name, err)
	}
	return &web.BasicAuth{User: user, PassHash: pass}, nil
}

// stringList is a repeatable, comma-separable flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

func str(st *settings.Settings, name, def string) string {
	v, ok := st.Get(name)
	if !ok || v == nil {
		return def
	}
	if b, ok := v.(bool); ok && !b {
		return "false"
	}
	s := msg.ToString(v)
	if s == "" {
		return def
	}
	return s
}

func newLogger(st *settings.Settings) *slog.Logger {
	level := slog.LevelInfo
	if v, ok := st.Get("logging"); ok {
		if o, ok := v.(*msg.Object); ok {
			if c, ok := o.Value("console").(*msg.Object); ok {
				switch strings.ToLower(msg.ToString(c.Value("level"))) {
				case "debug", "trace":
					level = slog.LevelDebug
				case "warn":
					level = slog.LevelWarn
				case "error", "fatal":
					level = slog.LevelError
				case "off":
					level = slog.LevelError + 100
				}
			}
		}
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

func reportProblems(log *slog.Logger, ps []node.Problem) {
	for _, p := range ps {
		attrs := []any{"code", p.Code}
		if p.ID != "" {
			attrs = append(attrs, "node", p.ID, "type", p.Type)
		}
		if p.Property != "" {
			attrs = append(attrs, "property", p.Property)
		}
		if p.Severity == "error" {
			log.Error(p.Message, attrs...)
		} else {
			log.Warn(p.Message, attrs...)
		}
	}
}

func credMap(c creds.Creds, _ *flow.Set) map[string]map[string]string {
	out := map[string]map[string]string{}
	for id := range c {
		out[id] = c.Strings(id)
	}
	return out
}

// writeWithBackup keeps the file's previous content as .NAME.backup next to
// it (Node-RED's name, so its recovery habits carry over), then replaces it.
func writeWithBackup(path string, data []byte) error {
	old, err := os.ReadFile(path)
	if err == nil && !bytes.Equal(old, data) {
		backup := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".backup")
		if err := writeAtomic(backup, old); err != nil {
			return fmt.Errorf("backup %s: %w", backup, err)
		}
	}
	return writeAtomic(path, data)
}

// writeAtomic replaces a file without ever leaving it half written.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".flows-*.json")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
