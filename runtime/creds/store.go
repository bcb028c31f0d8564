package creds

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Key types, as Node-RED names them (RED.runtime's getKeyType).
const (
	KeyUser     = "user"     // credentialSecret is set
	KeySystem   = "system"   // generated _credentialSecret
	KeyDisabled = "disabled" // credentialSecret: false
)

// Store is the credentials of one flow file, opened with the secret
// resolution and migration rules of Node-RED. It is not safe for concurrent
// use.
type Store struct {
	Path    string
	UserDir string
	Creds   Creds
	// KeyType is KeyUser, KeySystem or KeyDisabled.
	KeyType string
	// Pretty writes indented JSON (flowFilePretty).
	Pretty bool
	// Dirty reports that the file on disk is not what Save would write in a
	// way that matters: it was migrated off the generated key, or is plain
	// text while encryption is on.
	Dirty bool
	// Warnings are for the log, in the spirit of Node-RED's startup
	// warnings about credential storage.
	Warnings []string

	secret          string // "" when encryption is off
	retireSystemKey bool
}

// Open reads the credentials file at path for a runtime whose user
// directory is userDir and whose credentialSecret setting is configured.
//
// As in Node-RED: with a configured secret (or false) and an older
// generated _credentialSecret still present, the file is decrypted with the
// generated key, marked Dirty, and the generated key is removed from
// .config.runtime.json by the next Save. With nothing configured and no
// generated key, one is generated and saved.
//
// Unlike Node-RED, which carries on with empty credentials and overwrites
// the file on the next deploy, a file that cannot be decrypted is an error
// naming the file, and nothing is written. An encrypted file with no secret
// to open it does not cause a new key to be generated either.
func Open(userDir, path string, configured Secret) (*Store, error) {
	s := &Store{Path: path, UserDir: userDir}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("credentials file: %w", err)
	}
	file, err := parseFile(data)
	if err != nil {
		return nil, fmt.Errorf("credentials file %s: %w", path, err)
	}
	sys, err := SystemSecret(userDir)
	if err != nil {
		return nil, err
	}
	isEnc := encrypted(file)
	fail := func(err error) (*Store, error) {
		return nil, fmt.Errorf("credentials file %s: %w", path, err)
	}

	switch {
	case configured.IsSet():
		s.KeyType = KeyUser
		s.secret = configured.Value
		if configured.Disabled {
			s.KeyType = KeyDisabled
		}
		if sys != "" {
			// Migrating off the generated key. Trying the configured secret
			// second covers a file already re-encrypted by a run that did
			// not get to remove the generated key.
			s.Dirty, s.retireSystemKey = true, true
			if isEnc {
				plain, err := decrypt(file, sys)
				tried := "the generated _credentialSecret in " + runtimeConfigPath(userDir)
				if err != nil && s.secret != "" {
					plain, err = decrypt(file, s.secret)
					tried = "the configured credentialSecret and " + tried
				}
				if err != nil {
					return fail(fmt.Errorf("%w (tried %s)", err, tried))
				}
				file = plain
			}
		} else if isEnc {
			if s.secret == "" {
				return fail(errors.New("the file is encrypted but credentialSecret is false; set credentialSecret to the secret it was encrypted with"))
			}
			if file, err = decrypt(file, s.secret); err != nil {
				return fail(err)
			}
		}
	default:
		s.KeyType = KeySystem
		if sys == "" && isEnc {
			return fail(fmt.Errorf("the file is encrypted, credentialSecret is not set and %s has no _credentialSecret; set credentialSecret to the secret it was encrypted with", runtimeConfigPath(userDir)))
		}
		if s.secret, _, err = ResolveSecret(userDir, configured); err != nil {
			return nil, err
		}
		if isEnc {
			if file, err = decrypt(file, s.secret); err != nil {
				return fail(fmt.Errorf("%w (tried the generated _credentialSecret in %s)", err, runtimeConfigPath(userDir)))
			}
		}
		s.Warnings = append(s.Warnings, fmt.Sprintf("credentials are encrypted with a generated key kept in %s; if that file is lost they cannot be recovered: set credentialSecret instead", runtimeConfigPath(userDir)))
	}

	if s.Creds, err = toCreds(file); err != nil {
		return fail(err)
	}
	if !isEnc && len(s.Creds) > 0 {
		if s.secret != "" {
			s.Dirty = true
			s.Warnings = append(s.Warnings, fmt.Sprintf("credentials file %s is not encrypted; it will be encrypted when next saved", path))
		} else {
			s.Warnings = append(s.Warnings, fmt.Sprintf("credentials file %s is not encrypted (credentialSecret is false)", path))
		}
	}
	return s, nil
}

// Encrypted reports whether Save encrypts.
func (s *Store) Encrypted() bool { return s.secret != "" }

// Save writes the credentials atomically and then, when migrating, removes
// the generated key (in that order, so a failed write never loses the key
// that still opens the old file).
func (s *Store) Save() error {
	if err := save(s.Path, s.secret, s.Creds, s.Pretty); err != nil {
		return err
	}
	if s.retireSystemKey {
		if err := removeSystemSecret(s.UserDir); err != nil {
			return fmt.Errorf("removing the old generated credential secret: %w", err)
		}
		s.retireSystemKey = false
	}
	s.Dirty = false
	return nil
}
