package flowtest

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the result as JUnit XML (one testsuite per file), the
// format CI systems read test reports in.
func (r *Result) WriteJUnit(w io.Writer) error {
	js := junitSuites{Time: secs(r.Elapsed.Seconds())}
	for _, s := range r.Suites {
		su := junitSuite{Name: s.File, Time: secs(s.Elapsed.Seconds())}
		for _, c := range s.Cases {
			jc := junitCase{Name: c.Name, Classname: s.File, Time: secs(c.Elapsed.Seconds())}
			if !c.Passed() {
				jc.Failure = &junitFailure{Message: firstLine(c.Failures[0]), Text: strings.Join(c.Failures, "\n")}
				su.Failures++
			}
			if len(c.Log) > 0 {
				jc.SystemOut = strings.Join(c.Log, "\n")
			}
			su.Tests++
			su.Cases = append(su.Cases, jc)
		}
		js.Tests += su.Tests
		js.Failures += su.Failures
		js.Suites = append(js.Suites, su)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(js); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func secs(f float64) string { return fmt.Sprintf("%.3f", f) }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
