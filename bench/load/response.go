package main

import (
	"bytes"
	"encoding/json"
)

// actionOf finds the decision in a /v1/check response: the string value of
// the top-level "action" key. It returns the index into actionNames, or a
// short description of what is wrong. It allocates nothing, so that
// checking every response does not make the client the bottleneck.
func actionOf(b []byte) (int, string) {
	if !json.Valid(b) {
		return 0, "the response is not JSON"
	}
	// From here on b is valid JSON, so the scanner only has to find
	// boundaries, not check syntax.
	i := skipSpace(b, 0)
	if b[i] != '{' {
		return 0, "the response is not a JSON object"
	}
	i = skipSpace(b, i+1)
	for b[i] != '}' {
		kEnd := stringEnd(b, i)
		key := b[i+1 : kEnd-1]
		i = skipSpace(b, kEnd)
		i = skipSpace(b, i+1) // the ':'
		if string(key) == "action" {
			if b[i] != '"' {
				return 0, `"action" is not a string`
			}
			v := b[i+1 : stringEnd(b, i)-1]
			if len(v) == 0 {
				return 0, `"action" is empty`
			}
			for n, name := range actionNames[:len(actionNames)-1] {
				if string(v) == name {
					return n, ""
				}
			}
			return len(actionNames) - 1, ""
		}
		i = skipSpace(b, valueEnd(b, i))
		if b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return 0, `no "action" field in the response`
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string that starts at b[i].
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the value that starts at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = stringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	}
	// A number, true, false or null.
	if j := bytes.IndexAny(b[i:], ",}] \t\r\n"); j >= 0 {
		return i + j
	}
	return len(b)
}
