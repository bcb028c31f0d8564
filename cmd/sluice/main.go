// Command sluice runs Node-RED flows: `sluice run flows.json`.
package main

import (
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `sluice — run Node-RED flows in one binary

Usage:
  sluice run [-p PORT] [-u USERDIR] [--host ADDR] [-s SETTINGS] [--safe] [--headless]
             [--flows-readonly] [--https-cert FILE --https-key FILE] [--allow-origin URL] [--insecure] [FLOWFILE]
  sluice hash-password [PASSWORD]   (bcrypt hash for adminAuth.users; reads stdin without an argument)
  sluice validate [--json] FLOWFILE
  sluice nodes [--json]
  sluice fmt [-w] [--check] [FLOWFILE...]
  sluice diff [--json] [--exit-code] OLD NEW
  sluice merge-driver BASE OURS THEIRS [PATH]
  sluice git-setup [PATTERN...]
  sluice test [-v] [--junit FILE] [--timeout D] [PATH...]
  sluice version
`

func main() {
	stop := startProfile()
	code := realMain(os.Args[1:])
	stop()
	os.Exit(code)
}

func realMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:])
	case "validate":
		return cmdValidate(args[1:], os.Stdout, os.Stderr)
	case "nodes":
		return cmdNodes(args[1:], os.Stdout)
	case "fmt":
		return cmdFmt(args[1:], os.Stdin, os.Stdout, os.Stderr)
	case "diff":
		return cmdDiff(args[1:], os.Stdout, os.Stderr)
	case "merge-driver":
		return cmdMergeDriver(args[1:], os.Stderr)
	case "git-setup":
		return cmdGitSetup(args[1:], os.Stdout, os.Stderr)
	case "test":
		return cmdTest(args[1:], os.Stdout, os.Stderr)
	case "hash-password":
		return cmdHashPassword(args[1:], os.Stdin, os.Stdout, os.Stderr)
	case "version", "--version", "-v":
		fmt.Println("sluice", version)
		return 0
	case "help", "-h", "--help":
		fmt.Print(usage)
		return 0
	}
	fmt.Fprintf(os.Stderr, "sluice: unknown command %q\n\n%s", args[0], usage)
	return 2
}
