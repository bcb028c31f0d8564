package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// cmdHashPassword prints the bcrypt hash of a password for adminAuth.users
// (Node-RED's `node-red admin hash-pw`). The password comes from the
// argument or, safer (no shell history), the first line of stdin.
func cmdHashPassword(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var pw string
	switch len(args) {
	case 0:
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			fmt.Fprintln(stderr, "sluice hash-password:", err)
			return 1
		}
		pw = strings.TrimRight(line, "\r\n")
	case 1:
		pw = args[0]
	default:
		fmt.Fprintln(stderr, "usage: sluice hash-password [PASSWORD]   (or the password on stdin)")
		return 2
	}
	if pw == "" {
		fmt.Fprintln(stderr, "sluice hash-password: the password is empty")
		return 1
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		fmt.Fprintln(stderr, "sluice hash-password:", err)
		return 1
	}
	fmt.Fprintln(stdout, string(h))
	return 0
}
