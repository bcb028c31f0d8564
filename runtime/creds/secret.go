package creds

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Secret is the credentialSecret setting. The zero value means "not set":
// Node-RED then encrypts with a key it generates and keeps in the user
// directory.
type Secret struct {
	// Value is the secret when one is configured.
	Value string
	// Disabled is credentialSecret: false: credentials are stored as plain
	// JSON.
	Disabled bool
}

// IsSet reports whether credentialSecret was configured at all.
func (s Secret) IsSet() bool { return s.Disabled || s.Value != "" }

// RuntimeConfigFile is where Node-RED keeps the generated secret
// (_credentialSecret) along with other runtime state such as instanceId.
const RuntimeConfigFile = ".config.runtime.json"

const systemKeyName = "_credentialSecret"

// ResolveSecret decides how credentials are protected, as Node-RED does: a
// configured credentialSecret wins; credentialSecret: false turns
// encryption off; otherwise the _credentialSecret in
// userDir/.config.runtime.json is used, generated (32 random bytes, hex)
// and saved there first if absent. A runtime config file that cannot be
// read or parsed is an error rather than a reason to generate a new key:
// that would orphan the credentials encrypted with the old one.
//
// When a secret is configured and an older generated one still exists,
// credentials need migrating; Open does that.
func ResolveSecret(userDir string, configured Secret) (secret string, encrypt bool, err error) {
	if configured.Disabled {
		return "", false, nil
	}
	if configured.Value != "" {
		return configured.Value, true, nil
	}
	sys, err := SystemSecret(userDir)
	if err != nil {
		return "", false, err
	}
	if sys != "" {
		return sys, true, nil
	}
	sys, err = generateSystemSecret(userDir)
	if err != nil {
		return "", false, err
	}
	return sys, true, nil
}

// SystemSecret returns the generated _credentialSecret kept in
// userDir/.config.runtime.json, "" when there is none.
func SystemSecret(userDir string) (string, error) {
	if userDir == "" {
		return "", nil
	}
	cfg, err := readRuntimeConfig(userDir)
	if err != nil {
		return "", err
	}
	// Node-RED only uses a truthy value; anything else counts as absent.
	s, _ := cfg.Value(systemKeyName).(string)
	return s, nil
}

func runtimeConfigPath(userDir string) string {
	return filepath.Join(userDir, RuntimeConfigFile)
}

func readRuntimeConfig(userDir string) (*msg.Object, error) {
	path := runtimeConfigPath(userDir)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return msg.NewObject(0), nil
	}
	if err != nil {
		return nil, err
	}
	o, err := parseFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return o, nil
}

// writeRuntimeConfig keeps every other key of the file and formats it as
// Node-RED does (four-space indent).
func writeRuntimeConfig(userDir string, cfg *msg.Object) error {
	return writeFileAtomic(runtimeConfigPath(userDir), msg.MarshalIndent(cfg, "    "))
}

func generateSystemSecret(userDir string) (string, error) {
	if userDir == "" {
		return "", errors.New("credentialSecret is not set and there is no user directory to keep a generated one in: set credentialSecret (or false to store credentials unencrypted)")
	}
	cfg, err := readRuntimeConfig(userDir)
	if err != nil {
		return "", err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	s := hex.EncodeToString(b)
	cfg.Set(systemKeyName, s)
	if err := writeRuntimeConfig(userDir, cfg); err != nil {
		return "", fmt.Errorf("saving the generated credential secret: %w", err)
	}
	return s, nil
}

// removeSystemSecret drops _credentialSecret once credentials no longer
// depend on it.
func removeSystemSecret(userDir string) error {
	cfg, err := readRuntimeConfig(userDir)
	if err != nil {
		return err
	}
	if !cfg.Delete(systemKeyName) {
		return nil
	}
	return writeRuntimeConfig(userDir, cfg)
}
