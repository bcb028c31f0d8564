package settings

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Names of the settings files looked for in the user directory.
const (
	YAMLFile = "settings.yaml"
	JSFile   = "settings.js"
)

// LoadFile reads a settings file: a Node-RED settings.js when the name ends
// in .js, YAML otherwise. Errors name the file (and line, for YAML).
func LoadFile(path string) (*Settings, error) {
	return loadFile(path, "", os.Environ())
}

func loadFile(path, userDir string, environ []string) (*Settings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	src := source{file: path, userDir: userDir}
	var raw *msg.Object
	if strings.EqualFold(filepath.Ext(path), ".js") {
		src.js = true
		if raw, src.nonData, err = evalJS(data, path, environ); err != nil {
			return nil, err
		}
	} else if raw, src.lines, err = parseYAML(data, path); err != nil {
		return nil, err
	}
	return build(raw, src)
}

// Load finds and reads the settings: explicitPath when given (it must
// exist), else settings.yaml in userDir, else a Node-RED settings.js there,
// else the defaults. UserDir is userDir unless the file sets it.
func Load(userDir, explicitPath string) (*Settings, error) {
	return load(userDir, explicitPath, os.Environ())
}

func load(userDir, explicitPath string, environ []string) (*Settings, error) {
	path := explicitPath
	if path == "" && userDir != "" {
		for _, name := range []string{YAMLFile, JSFile} {
			p := filepath.Join(userDir, name)
			_, err := os.Stat(p)
			if err == nil {
				path = p
				break
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("settings: %w", err)
			}
		}
	}
	if path == "" {
		return build(msg.NewObject(0), source{userDir: userDir})
	}
	return loadFile(path, userDir, environ)
}
