package creds

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Load reads the credentials file at path. A missing file holds no
// credentials. secret "" means the file is plain JSON (credentialSecret:
// false); an encrypted file then fails with ErrEncrypted. Errors name the
// file; a wrong secret fails with ErrWrongSecret.
func Load(path, secret string) (Creds, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Creds{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("credentials file: %w", err)
	}
	c, err := Decode(data, secret)
	if err != nil {
		return nil, fmt.Errorf("credentials file %s: %w", path, err)
	}
	return c, nil
}

// Save writes c to path, encrypted with secret (plain JSON when secret is
// ""), compact as Node-RED writes it without flowFilePretty. The write is
// atomic: readers see the old file or the new one, never a torn one.
func Save(path, secret string, c Creds) error {
	return save(path, secret, c, false)
}

func save(path, secret string, c Creds, pretty bool) error {
	data, err := Encode(c, secret, pretty)
	if err != nil {
		return fmt.Errorf("credentials file %s: %w", path, err)
	}
	if err := writeFileAtomic(path, data); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	return nil
}

// writeFileAtomic writes through a temporary file in the same directory and
// renames it over path, syncing both so a crash leaves either version
// whole. An existing file keeps its permissions; a new one is private to
// the owner, since it holds secrets.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mode := fs.FileMode(0o600)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: makes the rename itself durable
		d.Close()
	}
	return nil
}
