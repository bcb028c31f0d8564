package msg

import "testing"

// The expected texts were recorded from Node 22's JSON.parse; catch nodes in
// flows compare them, so they must match word for word.
func TestUnmarshalErrorTextMatchesV8(t *testing.T) {
	cases := []struct{ in, want string }{
		{"hello", "Unexpected token 'h', \"hello\" is not valid JSON"},
		{"", "Unexpected end of JSON input"},
		{"{\"a\":1", "Expected ',' or '}' after property value in JSON at position 6 (line 1 column 7)"},
		{"{\"a\" 1}", "Expected ':' after property name in JSON at position 5 (line 1 column 6)"},
		{"[1,]", "Unexpected token ']', \"[1,]\" is not valid JSON"},
		{"{a:1}", "Expected property name or '}' in JSON at position 1 (line 1 column 2)"},
		{"[1 2]", "Expected ',' or ']' after array element in JSON at position 3 (line 1 column 4)"},
		{"\"abc", "Unterminated string in JSON at position 4 (line 1 column 5)"},
		{"1 2", "Unexpected non-whitespace character after JSON at position 2 (line 1 column 3)"},
		{"tru", "Unexpected end of JSON input"},
		{"nul", "Unexpected end of JSON input"},
		{"-", "No number after minus sign in JSON at position 1 (line 1 column 2)"},
		{"01", "Unexpected number in JSON at position 1 (line 1 column 2)"},
		{"1.", "Unterminated fractional number in JSON at position 2 (line 1 column 3)"},
		{"1e", "Exponent part is missing a number in JSON at position 2 (line 1 column 3)"},
		{"{\"a\":1,}", "Expected double-quoted property name in JSON at position 7 (line 1 column 8)"},
		{"[", "Unexpected end of JSON input"},
		{"{", "Expected property name or '}' in JSON at position 1 (line 1 column 2)"},
		{"\"\\x\"", "Bad escaped character in JSON at position 2 (line 1 column 3)"},
		{"\"\\u12\"", "Bad Unicode escape in JSON at position 5 (line 1 column 6)"},
		{"\"a\nb\"", "Bad control character in string literal in JSON at position 2 (line 1 column 3)"},
		{"{\"a\":}", "Unexpected token '}', \"{\"a\":}\" is not valid JSON"},
		{"[,1]", "Unexpected token ',', \"[,1]\" is not valid JSON"},
		{" ", "Unexpected end of JSON input"},
		{"undefined", "\"undefined\" is not valid JSON"},
		{"{\"a\":1}}", "Unexpected non-whitespace character after JSON at position 7 (line 1 column 8)"},
		{"é", "Unexpected token 'é', \"é\" is not valid JSON"},
		{"[1]x", "Unexpected non-whitespace character after JSON at position 3 (line 1 column 4)"},
		{"1ee", "Exponent part is missing a number in JSON at position 2 (line 1 column 3)"},
		{"[tx]", "Unexpected token 'x', \"[tx]\" is not valid JSON"},
		{"\"ab\\", "Unexpected end of JSON input"},
		{"[1,2", "Expected ',' or ']' after array element in JSON at position 4 (line 1 column 5)"},
		{"{\"a\"", "Expected ':' after property name in JSON at position 4 (line 1 column 5)"},
		{"{\"a\":", "Unexpected end of JSON input"},
		{"{\"a\":1,", "Expected double-quoted property name in JSON at position 7 (line 1 column 8)"},
		{"[1,", "Unexpected end of JSON input"},
		{"abcdefghijklmnopqrstuvwxyz0123456789", "Unexpected token 'a', \"abcdefghij\"... is not valid JSON"},
		{"[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,x,18,19,20,21,22,23,24,25]", "Unexpected token 'x', ...\",14,15,16,x,18,19,20\"... is not valid JSON"},
		{"[1,2,3,4,5,6,7,x,9,10]", "Unexpected token 'x', ...\"3,4,5,6,7,x,9,10]\" is not valid JSON"},
		{"[x,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25]", "Unexpected token 'x', \"[x,2,3,4,5,\"... is not valid JSON"},
		{"{\n\"a\": 1,\r\n\"b\" 2}", "Expected ':' after property name in JSON at position 15 (line 3 column 5)"},
		{"[1,\r 2 3]", "Expected ',' or ']' after array element in JSON at position 7 (line 2 column 4)"},
		{"NaN", "\"NaN\" is not valid JSON"},
		{"Infinity", "\"Infinity\" is not valid JSON"},
		{"[object Object]", "\"[object Object]\" is not valid JSON"},
		{"-Infinity", "No number after minus sign in JSON at position 1 (line 1 column 2)"},
		{"[01]", "Unexpected number in JSON at position 2 (line 1 column 3)"},
		{"[-x]", "No number after minus sign in JSON at position 2 (line 1 column 3)"},
		{"[1.x]", "Unterminated fractional number in JSON at position 3 (line 1 column 4)"},
		{"\"\\u00zz\"", "Bad Unicode escape in JSON at position 5 (line 1 column 6)"},
		{"\"\\u", "Bad Unicode escape in JSON at position 3 (line 1 column 4)"},
		{"\"\\\"", "Unterminated string in JSON at position 3 (line 1 column 4)"},
		{"\"\t\"", "Bad control character in string literal in JSON at position 1 (line 1 column 2)"},
		{"[\"😀😀😀😀😀😀😀😀😀😀😀\", x]", "Unexpected token 'x', ...\"\ufffd😀😀😀\", x]\" is not valid JSON"},
		{"[\"😀\", 1 2]", "Expected ',' or ']' after array element in JSON at position 9 (line 1 column 10)"},
		{"[\"ééééééééééééééé\", x]", "Unexpected token 'x', ...\"ééééééé\", x]\" is not valid JSON"},
		{"truex", "Unexpected non-whitespace character after JSON at position 4 (line 1 column 5)"},
		{"[nul]", "Unexpected token ']', \"[nul]\" is not valid JSON"},
		{"{\"a\":1 \"b\":2}", "Expected ',' or '}' after property value in JSON at position 7 (line 1 column 8)"},
		{"[1,  2 3]", "Unexpected token ' ', \"[1,  2 3]\" is not valid JSON"},
	}
	for _, c := range cases {
		_, err := UnmarshalString(c.in)
		got := "OK"
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("JSON.parse(%q):\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}
