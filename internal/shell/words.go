package shell

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"mvdan.cc/sh/v3/syntax"
)

// field is one resolved word after expansion, as the program would see it
// in its argv. Parts that cannot be known statically appear as "*".
type field struct {
	s string
	// dyn is set when part of the field was not statically known.
	dyn bool
	// subst is set when part of the field came from a command or process
	// substitution (even one resolved statically).
	subst bool
	// quoted is set when any part was quoted (so the field is not a glob
	// and not subject to tilde expansion).
	quoted bool
	// flow is the combined output of the substitutions in the field, so
	// that `python -c "$(curl …)"` and `bash <(curl …)` know what they run.
	flow *flow
	// proc is set when the field is a process substitution <(…).
	proc bool
	// m is the field with dynamic parts replaced by dynMark instead of
	// "*", set only when dyn; nested code parsed from it knows which words
	// were dynamic.
	m string
}

// dynMark stands for an unresolved part inside code that is parsed again
// (bash -c "$x", eval, a here-document with expansions). It is a Unicode
// private-use character that never occurs in real commands.
const dynMark = "\uE000"

// code returns the field's text for re-parsing as code.
func (f field) code() string {
	if f.dyn && f.m != "" {
		return f.m
	}
	return f.s
}

// maxBraceFields caps brace expansion; larger expansions are kept as text.
const maxBraceFields = 64

// acc accumulates fields while a word is resolved.
type acc struct {
	fields  []field
	cur     strings.Builder
	curM    strings.Builder
	started bool
	dyn     bool
	subst   bool
	quoted  bool
	proc    bool
	flow    *flow
}

func (a *acc) add(s string) {
	a.cur.WriteString(s)
	a.curM.WriteString(s)
	a.started = true
}

// addDyn appends an unresolved part.
func (a *acc) addDyn() {
	a.cur.WriteString("*")
	a.curM.WriteString(dynMark)
	a.started = true
	a.dyn = true
}

func (a *acc) addQuoted(s, m string, dyn bool) {
	a.cur.WriteString(s)
	if dyn && m != "" {
		a.curM.WriteString(m)
	} else {
		a.curM.WriteString(s)
	}
	a.started = true
	a.quoted = true
	a.dyn = a.dyn || dyn
}

// addSplit appends an unquoted expansion value, splitting it into fields
// on blanks as the shell does.
func (a *acc) addSplit(v string) {
	if v == "" {
		return
	}
	i := 0
	for i < len(v) {
		if isBlank(v[i]) {
			a.end()
			for i < len(v) && isBlank(v[i]) {
				i++
			}
			continue
		}
		j := i
		for j < len(v) && !isBlank(v[j]) {
			j++
		}
		a.add(v[i:j])
		i = j
	}
}

func isBlank(b byte) bool { return b == ' ' || b == '\t' || b == '\n' }

func (a *acc) end() {
	if !a.started {
		return
	}
	f := field{s: a.cur.String(), dyn: a.dyn, subst: a.subst, quoted: a.quoted, flow: a.flow, proc: a.proc}
	if strings.Contains(f.s, dynMark) {
		// A marker from re-parsed code: that part was dynamic outside.
		f.s = strings.ReplaceAll(f.s, dynMark, "*")
		f.dyn = true
	}
	if f.dyn {
		f.m = a.curM.String()
	}
	a.fields = append(a.fields, f)
	a.cur.Reset()
	a.curM.Reset()
	a.started, a.dyn, a.subst, a.quoted, a.proc, a.flow = false, false, false, false, false, nil
}

func (a *acc) clone() *acc {
	b := &acc{fields: append([]field(nil), a.fields...), started: a.started, dyn: a.dyn, subst: a.subst, quoted: a.quoted, proc: a.proc, flow: a.flow}
	b.cur.WriteString(a.cur.String())
	b.curM.WriteString(a.curM.String())
	return b
}

// words resolves a list of words into fields.
func (w *walker) words(ws []*syntax.Word, c *ctx) []field {
	out := make([]field, 0, len(ws))
	for _, wd := range ws {
		if f, ok := w.simpleWord(wd); ok {
			out = append(out, f)
			continue
		}
		out = append(out, w.word(wd, c)...)
	}
	return out
}

// simpleWord resolves the common case of a plain literal or a
// single-quoted string without allocating the general machinery.
func (w *walker) simpleWord(wd *syntax.Word) (field, bool) {
	if wd == nil || len(wd.Parts) != 1 || w.nwords >= w.a.opts.MaxWords {
		return field{}, false
	}
	switch p := wd.Parts[0].(type) {
	case *syntax.Lit:
		if strings.ContainsAny(p.Value, "\\{"+dynMark) {
			return field{}, false
		}
		w.nwords++
		return field{s: p.Value}, true
	case *syntax.SglQuoted:
		if p.Dollar || strings.Contains(p.Value, dynMark) {
			return field{}, false
		}
		w.nwords++
		return field{s: p.Value, quoted: true}, true
	}
	return field{}, false
}

// word resolves one word into zero or more fields.
func (w *walker) word(wd *syntax.Word, c *ctx) []field {
	if wd == nil {
		return nil
	}
	w.nwords++
	if w.nwords > w.a.opts.MaxWords {
		w.limit("more than " + strconv.Itoa(w.a.opts.MaxWords) + " words")
		return []field{{s: "*", dyn: true}}
	}
	if hasBraceLit(wd) {
		syntax.SplitBraces(wd)
	}
	alts := []*acc{{}}
	for _, part := range wd.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			s := unescapeLit(p.Value)
			for _, a := range alts {
				a.add(s)
			}
		case *syntax.SglQuoted:
			s := p.Value
			if p.Dollar {
				s = ansiC(s)
			}
			for _, a := range alts {
				a.addQuoted(s, "", false)
			}
		case *syntax.DblQuoted:
			s, m, dyn, fl := w.dquoted(p.Parts, c)
			for _, a := range alts {
				a.addQuoted(s, m, dyn)
				if fl != nil {
					a.subst = true
					a.flow = mergeFlow(a.flow, fl)
				}
			}
		case *syntax.ParamExp:
			v, ok := w.param(p, c)
			fl := w.varFlow(p)
			for _, a := range alts {
				if ok {
					a.addSplit(v)
				} else {
					a.addDyn()
				}
				if fl != nil {
					a.flow = mergeFlow(a.flow, fl)
					a.started = true
				}
			}
		case *syntax.CmdSubst:
			fl := w.cmdSubst(p, c)
			for _, a := range alts {
				a.subst = true
				a.flow = mergeFlow(a.flow, fl)
				if fl.textOK {
					// An empty unquoted result disappears, as in the shell.
					a.addSplit(strings.TrimRight(fl.text, "\n"))
				} else {
					a.addDyn()
				}
			}
		case *syntax.ArithmExp:
			for _, a := range alts {
				a.addDyn()
			}
		case *syntax.ProcSubst:
			fl := w.procSubst(p, c)
			for _, a := range alts {
				a.add("/dev/fd/63")
				a.subst, a.proc = true, true
				a.flow = mergeFlow(a.flow, fl)
			}
		case *syntax.ExtGlob:
			s := p.Op.String() + p.Pattern.Value + ")"
			for _, a := range alts {
				a.add(s)
			}
		case *syntax.BraceExp:
			alts = w.brace(alts, p, c)
		}
	}
	var out []field
	for _, a := range alts {
		a.end()
		out = append(out, a.fields...)
	}
	return out
}

func hasBraceLit(wd *syntax.Word) bool {
	for _, p := range wd.Parts {
		if l, ok := p.(*syntax.Lit); ok && strings.IndexByte(l.Value, '{') >= 0 {
			return true
		}
	}
	return false
}

// brace expands a {a,b} brace expression across the alternatives built so
// far. Sequences ({1..100000}) are never expanded, and neither are lists
// that would produce more than maxBraceFields words.
func (w *walker) brace(alts []*acc, b *syntax.BraceExp, c *ctx) []*acc {
	elems := make([]string, 0, len(b.Elems))
	dyn := false
	for _, e := range b.Elems {
		s, d := w.joined(e, c)
		elems = append(elems, s)
		dyn = dyn || d
	}
	if b.Sequence || len(alts)*len(elems) > maxBraceFields {
		sep := ","
		if b.Sequence {
			sep = ".."
		}
		text := "{" + strings.Join(elems, sep) + "}"
		for _, a := range alts {
			a.add(text)
			a.dyn = a.dyn || dyn
		}
		return alts
	}
	out := make([]*acc, 0, len(alts)*len(elems))
	for _, a := range alts {
		for _, e := range elems {
			n := a.clone()
			n.add(e)
			n.dyn = n.dyn || dyn
			out = append(out, n)
		}
	}
	return out
}

// joined resolves a word into a single string without field splitting,
// as inside double quotes or a brace element.
func (w *walker) joined(wd *syntax.Word, c *ctx) (string, bool) {
	fs := w.word(wd, c)
	if len(fs) == 1 {
		return fs[0].s, fs[0].dyn
	}
	var b strings.Builder
	dyn := false
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.s)
		dyn = dyn || f.dyn
	}
	return b.String(), dyn
}

// dquoted resolves the parts of a double-quoted string. m is the same
// text with dynamic parts as dynMark.
func (w *walker) dquoted(parts []syntax.WordPart, c *ctx) (s, m string, dyn bool, fl *flow) {
	var b, bm strings.Builder
	lit := func(t string) {
		b.WriteString(t)
		bm.WriteString(t)
	}
	unknown := func() {
		b.WriteString("*")
		bm.WriteString(dynMark)
		dyn = true
	}
	for _, part := range parts {
		switch p := part.(type) {
		case *syntax.Lit:
			lit(unescapeDQ(p.Value))
		case *syntax.ParamExp:
			if v, ok := w.param(p, c); ok {
				lit(v)
			} else {
				unknown()
			}
			fl = mergeFlow(fl, w.varFlow(p))
		case *syntax.CmdSubst:
			f := w.cmdSubst(p, c)
			fl = mergeFlow(fl, f)
			if f.textOK {
				lit(strings.TrimRight(f.text, "\n"))
			} else {
				unknown()
			}
		default:
			unknown()
		}
	}
	s = b.String()
	if strings.Contains(s, dynMark) {
		s = strings.ReplaceAll(s, dynMark, "*")
		dyn = true
	}
	return s, bm.String(), dyn, fl
}

// param resolves a parameter expansion. ok is false when the value is
// not statically known.
func (w *walker) param(p *syntax.ParamExp, c *ctx) (string, bool) {
	if p.Param == nil {
		w.unresolved("parameter expansion")
		return "", false
	}
	name := p.Param.Value
	if p.Length || p.Excl || p.Index != nil || p.Slice != nil || p.Repl != nil || p.Names != 0 || p.Width || p.IsSet || p.NestedParam != nil {
		w.unresolved("${" + name + "…}")
		return "", false
	}
	v, ok := w.lookup(name)
	if p.Exp != nil {
		switch p.Exp.Op {
		case syntax.DefaultUnset, syntax.DefaultUnsetOrNull:
			if ok && v != "" {
				return v, true
			}
			if !ok {
				// Unknown variable with a default: the default is the
				// likely value, but it is still a guess.
				w.unresolved("$" + name)
			}
			if p.Exp.Word == nil {
				return "", true
			}
			s, dyn := w.joined(p.Exp.Word, c)
			return s, !dyn
		case syntax.AlternateUnset, syntax.AlternateUnsetOrNull:
			if ok && v != "" && p.Exp.Word != nil {
				s, dyn := w.joined(p.Exp.Word, c)
				return s, !dyn
			}
			if ok {
				return "", true
			}
		}
		w.unresolved("${" + name + "…}")
		return "", false
	}
	if !ok {
		w.unresolved("$" + name)
	}
	return v, ok
}

// varFlow returns what a variable assigned in this line carries (the
// output of a download or of a file read), so that x=$(curl …); eval "$x"
// is still recognised.
func (w *walker) varFlow(p *syntax.ParamExp) *flow {
	if p.Param == nil || w.vars == nil {
		return nil
	}
	return w.vars[p.Param.Value].fl
}

// lookup returns a variable's static value. HOME and PWD resolve to "~"
// and "." so that paths stay comparable; IFS splits words as the shell
// would.
func (w *walker) lookup(name string) (string, bool) {
	if v, ok := w.vars[name]; ok {
		return v.s, !v.dyn
	}
	switch name {
	case "HOME":
		return "~", true
	case "PWD":
		return ".", true
	case "IFS":
		return " ", true
	case "SHELL":
		// The login shell: not known exactly, but a shell.
		return "sh", true
	case "0":
		// $0 in a one-line command is the shell itself; fork bombs use it.
		return "sh", true
	}
	return "", false
}

// unescapeLit removes backslash escapes from an unquoted literal.
func unescapeLit(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			if s[i] == '\n' {
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unescapeDQ removes the escapes that are special inside double quotes.
func unescapeDQ(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case '$', '`', '"', '\\':
				i++
			case '\n':
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ansiC decodes bash's $'…' escapes.
func ansiC(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch != '\\' || i+1 >= len(s) {
			b.WriteByte(ch)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte(7)
		case 'b':
			b.WriteByte(8)
		case 'e', 'E':
			b.WriteByte(27)
		case 'f':
			b.WriteByte(12)
		case 'v':
			b.WriteByte(11)
		case '\\', '\'', '"', '?':
			b.WriteByte(s[i])
		case 'x':
			v, n := hexDigits(s[i+1:], 2)
			if n == 0 {
				b.WriteString(`\x`)
				continue
			}
			b.WriteByte(byte(v))
			i += n
		case 'u', 'U':
			max := 4
			if s[i] == 'U' {
				max = 8
			}
			v, n := hexDigits(s[i+1:], max)
			if n == 0 || !utf8.ValidRune(rune(v)) {
				b.WriteByte('\\')
				b.WriteByte(s[i])
				continue
			}
			b.WriteRune(rune(v))
			i += n
		case 'c':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i] & 0x1f)
			}
		default:
			if s[i] >= '0' && s[i] <= '7' {
				v, n := 0, 0
				for n < 3 && i+n < len(s) && s[i+n] >= '0' && s[i+n] <= '7' {
					v = v*8 + int(s[i+n]-'0')
					n++
				}
				b.WriteByte(byte(v))
				i += n - 1
				continue
			}
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func hexDigits(s string, max int) (int, int) {
	v, n := 0, 0
	for n < max && n < len(s) {
		d := unhex(s[n])
		if d < 0 {
			break
		}
		v = v*16 + d
		n++
	}
	return v, n
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
