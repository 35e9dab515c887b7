package shopifysim

// A small GraphQL front end: enough of the language (operations, variables
// with defaults, aliases, arguments, fragments, @skip/@include) to read what
// a client sends, validate it against the slice of the Admin API schema the
// simulator serves (gqlSchema), and shape answers exactly as selected.
// Validation runs before anything executes, as in Shopify, so a mutation
// with a typo in its selection changes nothing. Not checked: argument names
// and types, and variable values against their declared types (resolvers
// read what they need and refuse what they cannot use).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// gqlError is one entry of a GraphQL response's "errors", in the shape
// Shopify (graphql-ruby) uses.
type gqlError struct {
	Message    string         `json:"message"`
	Locations  []gqlLocation  `json:"locations,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

type gqlLocation struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Error returns the message, so a gqlError can travel as an error.
func (e *gqlError) Error() string { return e.Message }

type tokKind int

const (
	tEOF tokKind = iota
	tName
	tString
	tInt
	tFloat
	tPunct
)

type gqlTok struct {
	kind tokKind
	val  string
	pos  int
}

// gqlVar is a variable reference ($name) inside a value, resolved when the
// operation runs.
type gqlVar string

type gqlDirective struct {
	name string
	args map[string]any
}

// gqlSelection is a field, an inline fragment or a fragment spread.
type gqlSelection struct {
	kind        byte // 'f' field, 'i' inline fragment, 's' fragment spread
	pos         int
	alias, name string // field; name is also the spread's fragment name
	args        map[string]any
	dirs        []gqlDirective
	on          string // inline fragment type condition, "" for none
	sub         []gqlSelection
	hasSub      bool
}

func (s *gqlSelection) key() string {
	if s.alias != "" {
		return s.alias
	}
	return s.name
}

type gqlVarDef struct {
	name, typ string
	def       any
	hasDef    bool
}

type gqlOperation struct {
	typ, name string // typ: query, mutation or subscription
	pos       int
	vars      []gqlVarDef
	sel       []gqlSelection
}

type gqlFragment struct {
	on  string
	sel []gqlSelection
}

type gqlDocument struct {
	src   string
	ops   []*gqlOperation
	frags map[string]*gqlFragment
}

// loc turns a byte offset into GraphQL's 1-based line and column.
func loc(src string, pos int) []gqlLocation {
	if pos > len(src) {
		pos = len(src)
	}
	line := 1 + strings.Count(src[:pos], "\n")
	col := pos - strings.LastIndexByte(src[:pos], '\n')
	return []gqlLocation{{Line: line, Column: col}}
}

func parseError(src string, t gqlTok) *gqlError {
	what := t.val
	if t.kind == tEOF {
		what = "end of file"
	}
	l := loc(src, t.pos)
	return &gqlError{Message: fmt.Sprintf("Parse error on %q at [%d, %d]", what, l[0].Line, l[0].Column), Locations: l}
}

func lexGraphQL(src string) ([]gqlTok, *gqlError) {
	var toks []gqlTok
	i, n := 0, len(src)
	bad := func(at int) *gqlError {
		r, _ := utf8.DecodeRuneInString(src[at:])
		return parseError(src, gqlTok{kind: tPunct, val: string(r), pos: at})
	}
	for i < n {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			i++
		case strings.HasPrefix(src[i:], "\ufeff"):
			i += 3
		case c == '#':
			for i < n && src[i] != '\n' {
				i++
			}
		case c == '.':
			if !strings.HasPrefix(src[i:], "...") {
				return nil, bad(i)
			}
			toks = append(toks, gqlTok{tPunct, "...", i})
			i += 3
		case strings.IndexByte("!$&()=:@[]{}|", c) >= 0:
			toks = append(toks, gqlTok{tPunct, string(c), i})
			i++
		case strings.HasPrefix(src[i:], `"""`):
			end := strings.Index(src[i+3:], `"""`)
			for end >= 0 && src[i+3+end-1] == '\\' { // \""" is an escaped quote triple
				next := strings.Index(src[i+3+end+3:], `"""`)
				if next < 0 {
					end = -1
					break
				}
				end += 3 + next
			}
			if end < 0 {
				return nil, parseError(src, gqlTok{kind: tEOF, pos: n})
			}
			raw := strings.ReplaceAll(src[i+3:i+3+end], `\"""`, `"""`)
			toks = append(toks, gqlTok{tString, blockString(raw), i})
			i += 3 + end + 3
		case c == '"':
			var b strings.Builder
			j := i + 1
			for {
				if j >= n || src[j] == '\n' {
					return nil, parseError(src, gqlTok{kind: tEOF, pos: j})
				}
				if src[j] == '"' {
					break
				}
				if src[j] != '\\' {
					b.WriteByte(src[j])
					j++
					continue
				}
				if j+1 >= n {
					return nil, bad(j)
				}
				switch e := src[j+1]; e {
				case '"', '\\', '/':
					b.WriteByte(e)
				case 'b':
					b.WriteByte('\b')
				case 'f':
					b.WriteByte('\f')
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				case 't':
					b.WriteByte('\t')
				case 'u':
					if j+6 > n {
						return nil, bad(j)
					}
					r, err := strconv.ParseUint(src[j+2:j+6], 16, 32)
					if err != nil {
						return nil, bad(j)
					}
					b.WriteRune(rune(r))
					j += 4
				default:
					return nil, bad(j)
				}
				j += 2
			}
			toks = append(toks, gqlTok{tString, b.String(), i})
			i = j + 1
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			kind := tInt
			for j < n {
				d := src[j]
				if d >= '0' && d <= '9' {
					j++
				} else if d == '.' || d == 'e' || d == 'E' || ((d == '+' || d == '-') && (src[j-1] == 'e' || src[j-1] == 'E')) {
					kind = tFloat
					j++
				} else {
					break
				}
			}
			if _, err := strconv.ParseFloat(src[i:j], 64); err != nil {
				return nil, bad(i)
			}
			toks = append(toks, gqlTok{kind, src[i:j], i})
			i = j
		case c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			j := i + 1
			for j < n && (src[j] == '_' || (src[j] >= 'a' && src[j] <= 'z') || (src[j] >= 'A' && src[j] <= 'Z') || (src[j] >= '0' && src[j] <= '9')) {
				j++
			}
			toks = append(toks, gqlTok{tName, src[i:j], i})
			i = j
		default:
			return nil, bad(i)
		}
	}
	return append(toks, gqlTok{tEOF, "", n}), nil
}

// blockString applies the spec's indentation removal to a """ string.
func blockString(raw string) string {
	lines := strings.Split(strings.ReplaceAll(raw, "\r\n", "\n"), "\n")
	indent := -1
	for _, l := range lines[1:] {
		t := strings.TrimLeft(l, " \t")
		if t != "" && (indent < 0 || len(l)-len(t) < indent) {
			indent = len(l) - len(t)
		}
	}
	for k := 1; k < len(lines) && indent > 0; k++ {
		if len(lines[k]) >= indent {
			lines[k] = lines[k][indent:]
		}
	}
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

type gqlParser struct {
	src   string
	toks  []gqlTok
	i     int
	depth int
}

// maxDepth bounds nesting (selections, lists, objects) so that a hostile
// query cannot exhaust the stack.
const maxDepth = 64

func (p *gqlParser) enter(t gqlTok) *gqlError {
	p.depth++
	if p.depth > maxDepth {
		l := loc(p.src, t.pos)
		return &gqlError{Message: fmt.Sprintf("Query is nested deeper than %d levels", maxDepth), Locations: l}
	}
	return nil
}

func (p *gqlParser) peek() gqlTok { return p.toks[p.i] }

func (p *gqlParser) next() gqlTok {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *gqlParser) isPunct(v string) bool {
	t := p.peek()
	return t.kind == tPunct && t.val == v
}

func (p *gqlParser) punct(v string) *gqlError {
	if t := p.next(); t.kind != tPunct || t.val != v {
		return parseError(p.src, t)
	}
	return nil
}

func (p *gqlParser) name() (string, *gqlError) {
	t := p.next()
	if t.kind != tName {
		return "", parseError(p.src, t)
	}
	return t.val, nil
}

// parseGraphQL parses an executable document.
func parseGraphQL(src string) (*gqlDocument, *gqlError) {
	toks, err := lexGraphQL(src)
	if err != nil {
		return nil, err
	}
	p := &gqlParser{src: src, toks: toks}
	doc := &gqlDocument{src: src, frags: map[string]*gqlFragment{}}
	for p.peek().kind != tEOF {
		t := p.peek()
		switch {
		case t.kind == tPunct && t.val == "{":
			sel, err := p.selectionSet()
			if err != nil {
				return nil, err
			}
			doc.ops = append(doc.ops, &gqlOperation{typ: "query", pos: t.pos, sel: sel})
		case t.kind == tName && (t.val == "query" || t.val == "mutation" || t.val == "subscription"):
			p.next()
			op := &gqlOperation{typ: t.val, pos: t.pos}
			if p.peek().kind == tName {
				op.name = p.next().val
			}
			if p.isPunct("(") {
				vars, err := p.varDefs()
				if err != nil {
					return nil, err
				}
				op.vars = vars
			}
			if _, err := p.directives(); err != nil {
				return nil, err
			}
			sel, err := p.selectionSet()
			if err != nil {
				return nil, err
			}
			op.sel = sel
			doc.ops = append(doc.ops, op)
		case t.kind == tName && t.val == "fragment":
			p.next()
			name, err := p.name()
			if err != nil {
				return nil, err
			}
			if on, err := p.name(); err != nil || on != "on" {
				return nil, parseError(src, p.toks[p.i-1])
			}
			typ, err := p.name()
			if err != nil {
				return nil, err
			}
			if _, err := p.directives(); err != nil {
				return nil, err
			}
			sel, err := p.selectionSet()
			if err != nil {
				return nil, err
			}
			doc.frags[name] = &gqlFragment{on: typ, sel: sel}
		default:
			return nil, parseError(src, t)
		}
	}
	return doc, nil
}

func (p *gqlParser) varDefs() ([]gqlVarDef, *gqlError) {
	if err := p.punct("("); err != nil {
		return nil, err
	}
	var defs []gqlVarDef
	for !p.isPunct(")") {
		if err := p.punct("$"); err != nil {
			return nil, err
		}
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		if err := p.punct(":"); err != nil {
			return nil, err
		}
		typ, err := p.typeRef()
		if err != nil {
			return nil, err
		}
		d := gqlVarDef{name: name, typ: typ}
		if p.isPunct("=") {
			p.next()
			if d.def, err = p.value(true); err != nil {
				return nil, err
			}
			d.hasDef = true
		}
		if _, err := p.directives(); err != nil {
			return nil, err
		}
		defs = append(defs, d)
	}
	p.next()
	return defs, nil
}

func (p *gqlParser) typeRef() (string, *gqlError) {
	var t string
	if p.isPunct("[") {
		p.next()
		inner, err := p.typeRef()
		if err != nil {
			return "", err
		}
		if err := p.punct("]"); err != nil {
			return "", err
		}
		t = "[" + inner + "]"
	} else {
		name, err := p.name()
		if err != nil {
			return "", err
		}
		t = name
	}
	if p.isPunct("!") {
		p.next()
		t += "!"
	}
	return t, nil
}

func (p *gqlParser) directives() ([]gqlDirective, *gqlError) {
	var ds []gqlDirective
	for p.isPunct("@") {
		p.next()
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		d := gqlDirective{name: name}
		if p.isPunct("(") {
			if d.args, err = p.arguments(); err != nil {
				return nil, err
			}
		}
		ds = append(ds, d)
	}
	return ds, nil
}

func (p *gqlParser) arguments() (map[string]any, *gqlError) {
	if err := p.punct("("); err != nil {
		return nil, err
	}
	args := map[string]any{}
	for !p.isPunct(")") {
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		if err := p.punct(":"); err != nil {
			return nil, err
		}
		if args[name], err = p.value(false); err != nil {
			return nil, err
		}
	}
	p.next()
	return args, nil
}

// value parses a GraphQL input value. Numbers become float64, as in JSON
// variables, so resolvers see one representation.
func (p *gqlParser) value(constant bool) (any, *gqlError) {
	t := p.next()
	switch t.kind {
	case tInt, tFloat:
		f, _ := strconv.ParseFloat(t.val, 64)
		return f, nil
	case tString:
		return t.val, nil
	case tName:
		switch t.val {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		return t.val, nil // an enum value
	case tPunct:
		switch t.val {
		case "$":
			if constant {
				return nil, parseError(p.src, t)
			}
			name, err := p.name()
			return gqlVar(name), err
		case "[":
			if err := p.enter(t); err != nil {
				return nil, err
			}
			defer func() { p.depth-- }()
			list := []any{}
			for !p.isPunct("]") {
				if p.peek().kind == tEOF {
					return nil, parseError(p.src, p.peek())
				}
				v, err := p.value(constant)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			p.next()
			return list, nil
		case "{":
			if err := p.enter(t); err != nil {
				return nil, err
			}
			defer func() { p.depth-- }()
			obj := map[string]any{}
			for !p.isPunct("}") {
				name, err := p.name()
				if err != nil {
					return nil, err
				}
				if err := p.punct(":"); err != nil {
					return nil, err
				}
				if obj[name], err = p.value(constant); err != nil {
					return nil, err
				}
			}
			p.next()
			return obj, nil
		}
	}
	return nil, parseError(p.src, t)
}

func (p *gqlParser) selectionSet() ([]gqlSelection, *gqlError) {
	if err := p.enter(p.peek()); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	if err := p.punct("{"); err != nil {
		return nil, err
	}
	var sels []gqlSelection
	for !p.isPunct("}") {
		t := p.peek()
		if t.kind == tEOF {
			return nil, parseError(p.src, t)
		}
		var s gqlSelection
		var err *gqlError
		s.pos = t.pos
		if p.isPunct("...") {
			p.next()
			if p.peek().kind == tName && p.peek().val != "on" {
				s.kind, s.name = 's', p.next().val
				if s.dirs, err = p.directives(); err != nil {
					return nil, err
				}
				sels = append(sels, s)
				continue
			}
			s.kind = 'i'
			if p.peek().kind == tName { // "on"
				p.next()
				if s.on, err = p.name(); err != nil {
					return nil, err
				}
			}
			if s.dirs, err = p.directives(); err != nil {
				return nil, err
			}
			if s.sub, err = p.selectionSet(); err != nil {
				return nil, err
			}
			s.hasSub = true
			sels = append(sels, s)
			continue
		}
		s.kind = 'f'
		if s.name, err = p.name(); err != nil {
			return nil, err
		}
		if p.isPunct(":") {
			p.next()
			s.alias = s.name
			if s.name, err = p.name(); err != nil {
				return nil, err
			}
		}
		if p.isPunct("(") {
			if s.args, err = p.arguments(); err != nil {
				return nil, err
			}
		}
		if s.dirs, err = p.directives(); err != nil {
			return nil, err
		}
		if p.isPunct("{") {
			if s.sub, err = p.selectionSet(); err != nil {
				return nil, err
			}
			s.hasSub = true
		}
		sels = append(sels, s)
	}
	p.next()
	return sels, nil
}

// operation picks the operation to run: the named one, or the only one.
func (d *gqlDocument) operation(name string) (*gqlOperation, *gqlError) {
	if name != "" {
		for _, op := range d.ops {
			if op.name == name {
				return op, nil
			}
		}
		return nil, &gqlError{Message: fmt.Sprintf("No operation named %q", name)}
	}
	switch len(d.ops) {
	case 0:
		return nil, &gqlError{Message: "No operations in query document"}
	case 1:
		return d.ops[0], nil
	}
	return nil, &gqlError{Message: "An operation name is required"}
}

// variables returns the operation's variables: the request's, with defaults
// for absent ones. A required variable that is absent or null is refused
// with graphql-ruby's message, as Shopify does.
func (op *gqlOperation) variables(src string, given map[string]any) (map[string]any, *gqlError) {
	vars := map[string]any{}
	for _, d := range op.vars {
		v, ok := given[d.name]
		if !ok && d.hasDef {
			v, ok = d.def, true
		}
		if (!ok || v == nil) && strings.HasSuffix(d.typ, "!") {
			return nil, &gqlError{
				Message:    fmt.Sprintf("Variable $%s of type %s was provided invalid value", d.name, d.typ),
				Locations:  loc(src, op.pos),
				Extensions: map[string]any{"code": "INVALID_VARIABLE", "value": nil, "problems": []any{map[string]any{"path": []any{}, "explanation": "Expected value to not be null"}}},
			}
		}
		if ok {
			vars[d.name] = v
		}
	}
	return vars, nil
}

// resolve replaces variable references in an argument value.
func resolve(v any, vars map[string]any) any {
	switch t := v.(type) {
	case gqlVar:
		return vars[string(t)]
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = resolve(e, vars)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = resolve(e, vars)
		}
		return out
	}
	return v
}

// resolveArgs resolves a field's arguments. A variable passed whole is
// returned as the very value the client sent, so Discount.Input is the
// client's input.
func resolveArgs(args map[string]any, vars map[string]any) map[string]any {
	out := make(map[string]any, len(args))
	for k, v := range args {
		out[k] = resolve(v, vars)
	}
	return out
}

// included applies @skip and @include.
func included(dirs []gqlDirective, vars map[string]any) bool {
	for _, d := range dirs {
		cond, _ := resolve(d.args["if"], vars).(bool)
		if (d.name == "skip" && cond) || (d.name == "include" && !cond) {
			return false
		}
	}
	return true
}

// gqlType is an object type (fields: name → type reference such as
// "String!" or "[WebhookSubscription!]!"), a union (members) or an
// interface (both).
type gqlType struct {
	fields  map[string]string
	members []string
}

func obj(fields ...string) gqlType {
	t := gqlType{fields: map[string]string{}}
	for _, f := range fields {
		name, typ, _ := strings.Cut(f, ":")
		t.fields[name] = typ
	}
	return t
}

func union(members ...string) gqlType { return gqlType{members: members} }

// iface is an interface: fields selectable on it directly, and the object
// types that implement it (what a fragment on it can match, and whose
// dearest selection is its requested cost).
func iface(members []string, fields ...string) gqlType {
	t := obj(fields...)
	t.members = members
	return t
}

// discountFields are the fields the simulator serves on every code
// discount type.
var discountFields = []string{
	"title:String!", "status:DiscountStatus!", "asyncUsageCount:Int!", "startsAt:DateTime!", "endsAt:DateTime",
	"usageLimit:Int", "appliesOncePerCustomer:Boolean!", "codes:DiscountRedeemCodeConnection!", "codesCount:Count",
	"shareableUrls:[DiscountShareableUrl!]!", "createdAt:DateTime!", "updatedAt:DateTime!", "summary:String!",
	"discountClass:DiscountClass!", "combinesWith:DiscountCombinesWith!",
}

// gqlSchema is the slice of the Admin GraphQL schema (2026-07) the simulator
// serves: what the app asks for and a little around it. Any other field is
// answered as Shopify answers a field that does not exist, so a query that
// passes here names only real fields, but a real field may be missing here;
// add it with its resolver.
var gqlSchema = map[string]gqlType{
	"QueryRoot": obj("shop:Shop!", "webhookSubscriptions:WebhookSubscriptionConnection!", "codeDiscountNodeByCode:DiscountCodeNode", "customer:Customer",
		"discountRedeemCodeBulkCreation:DiscountRedeemCodeBulkCreation", "themes:OnlineStoreThemeConnection"),
	"Mutation": obj("webhookSubscriptionCreate:WebhookSubscriptionCreatePayload", "webhookSubscriptionDelete:WebhookSubscriptionDeletePayload",
		"discountCodeBasicCreate:DiscountCodeBasicCreatePayload", "discountCodeFreeShippingCreate:DiscountCodeFreeShippingCreatePayload",
		"discountCodeDeactivate:DiscountCodeDeactivatePayload", "discountCodeActivate:DiscountCodeActivatePayload",
		"discountRedeemCodeBulkAdd:DiscountRedeemCodeBulkAddPayload", "discountCodeRedeemCodeBulkDelete:DiscountCodeRedeemCodeBulkDeletePayload",
		"discountCodeBasicUpdate:DiscountCodeBasicUpdatePayload",
		"storeCreditAccountCredit:StoreCreditAccountCreditPayload"),
	"Shop": obj("id:ID!", "name:String!", "email:String!", "contactEmail:String!", "currencyCode:CurrencyCode!", "ianaTimezone:String!",
		"myshopifyDomain:String!", "url:URL!", "createdAt:DateTime!", "plan:ShopPlan!", "primaryDomain:Domain!"),
	"ShopPlan":                      obj("displayName:String!", "partnerDevelopment:Boolean!", "shopifyPlus:Boolean!", "publicDisplayName:String!"),
	"Domain":                        obj("id:ID!", "host:String!", "url:URL!", "sslEnabled:Boolean!"),
	"PageInfo":                      obj("hasNextPage:Boolean!", "hasPreviousPage:Boolean!", "startCursor:String", "endCursor:String"),
	"WebhookSubscriptionConnection": obj("nodes:[WebhookSubscription!]!", "edges:[WebhookSubscriptionEdge!]!", "pageInfo:PageInfo!"),
	"WebhookSubscriptionEdge":       obj("cursor:String!", "node:WebhookSubscription!"),
	"WebhookSubscription": obj("id:ID!", "topic:WebhookSubscriptionTopic!", "uri:String!", "callbackUrl:URL!", "format:WebhookSubscriptionFormat!",
		"includeFields:[String!]!", "metafieldNamespaces:[String!]!", "filter:String", "createdAt:DateTime!", "updatedAt:DateTime!",
		"apiVersion:ApiVersion!", "endpoint:WebhookSubscriptionEndpoint!"),
	"ApiVersion":                            obj("handle:String!", "displayName:String!", "supported:Boolean!"),
	"WebhookSubscriptionEndpoint":           union("WebhookHttpEndpoint", "WebhookEventBridgeEndpoint", "WebhookPubSubEndpoint"),
	"WebhookHttpEndpoint":                   obj("callbackUrl:URL!"),
	"WebhookEventBridgeEndpoint":            obj("arn:ARN!"),
	"WebhookPubSubEndpoint":                 obj("pubSubProject:String!", "pubSubTopic:String!"),
	"UserError":                             obj("field:[String!]", "message:String!"),
	"DiscountUserError":                     obj("field:[String!]", "code:DiscountErrorCode", "message:String!", "extraInfo:String"),
	"WebhookSubscriptionCreatePayload":      obj("webhookSubscription:WebhookSubscription", "userErrors:[UserError!]!"),
	"WebhookSubscriptionDeletePayload":      obj("deletedWebhookSubscriptionId:ID", "userErrors:[UserError!]!"),
	"DiscountCodeBasicCreatePayload":        obj("codeDiscountNode:DiscountCodeNode", "userErrors:[DiscountUserError!]!"),
	"DiscountCodeFreeShippingCreatePayload": obj("codeDiscountNode:DiscountCodeNode", "userErrors:[DiscountUserError!]!"),
	"DiscountCodeDeactivatePayload":         obj("codeDiscountNode:DiscountCodeNode", "userErrors:[DiscountUserError!]!"),
	"DiscountCodeBasicUpdatePayload":        obj("codeDiscountNode:DiscountCodeNode", "userErrors:[DiscountUserError!]!"),
	"DiscountCodeActivatePayload":           obj("codeDiscountNode:DiscountCodeNode", "userErrors:[DiscountUserError!]!"),
	"DiscountCodeNode":                      obj("id:ID!", "codeDiscount:DiscountCode!"),
	"DiscountRedeemCodeBulkAddPayload":      obj("bulkCreation:DiscountRedeemCodeBulkCreation", "userErrors:[DiscountUserError!]!"),
	"DiscountRedeemCodeBulkCreation": obj("id:ID!", "done:Boolean!", "codesCount:Int!", "importedCount:Int!", "failedCount:Int!",
		"createdAt:DateTime!", "codes:DiscountRedeemCodeBulkCreationCodeConnection!", "discountCode:DiscountCodeNode"),
	"DiscountRedeemCodeBulkCreationCodeConnection": obj("nodes:[DiscountRedeemCodeBulkCreationCode!]!",
		"edges:[DiscountRedeemCodeBulkCreationCodeEdge!]!", "pageInfo:PageInfo!"),
	"DiscountRedeemCodeBulkCreationCodeEdge":  obj("cursor:String!", "node:DiscountRedeemCodeBulkCreationCode!"),
	"DiscountRedeemCodeBulkCreationCode":      obj("code:String!", "discountRedeemCode:DiscountRedeemCode", "errors:[DiscountUserError!]!"),
	"DiscountCodeRedeemCodeBulkDeletePayload": obj("job:Job", "userErrors:[DiscountUserError!]!"),
	"Job": obj("id:ID!", "done:Boolean!"),
	// codeDiscount is a union: fields need an inline fragment per type.
	"DiscountCode":                 union("DiscountCodeApp", "DiscountCodeBasic", "DiscountCodeBxgy", "DiscountCodeFreeShipping"),
	"DiscountCodeBasic":            obj(append([]string{"customerGets:DiscountCustomerGets!"}, discountFields...)...),
	"DiscountCodeFreeShipping":     obj(discountFields...),
	"DiscountCodeBxgy":             obj(discountFields...),
	"DiscountCodeApp":              obj(discountFields...),
	"DiscountRedeemCodeConnection": obj("nodes:[DiscountRedeemCode!]!", "edges:[DiscountRedeemCodeEdge!]!", "pageInfo:PageInfo!"),
	"DiscountRedeemCodeEdge":       obj("cursor:String!", "node:DiscountRedeemCode!"),
	"DiscountRedeemCode":           obj("id:ID!", "code:String!", "asyncUsageCount:Int!"),
	"Count":                        obj("count:Int!", "precision:CountPrecision!"),
	"DiscountShareableUrl":         obj("url:URL!", "title:String!", "targetType:DiscountShareableUrlTargetType!"),
	"DiscountCombinesWith":         obj("orderDiscounts:Boolean!", "productDiscounts:Boolean!", "shippingDiscounts:Boolean!"),
	"DiscountCustomerGets":         obj("value:DiscountCustomerGetsValue!", "items:DiscountItems!", "appliesOnOneTimePurchase:Boolean!", "appliesOnSubscription:Boolean!"),
	"DiscountCustomerGetsValue":    union("DiscountAmount", "DiscountOnQuantity", "DiscountPercentage"),
	"DiscountAmount":               obj("amount:MoneyV2!", "appliesOnEachItem:Boolean!"),
	"DiscountPercentage":           obj("percentage:Float!"),
	"DiscountOnQuantity":           obj(),
	"DiscountItems":                union("AllDiscountItems", "DiscountCollections", "DiscountProducts"),
	"AllDiscountItems":             obj("allItems:Boolean!"),
	"DiscountCollections":          obj(),
	"DiscountProducts":             obj(),
	"MoneyV2":                      obj("amount:Decimal!", "currencyCode:CurrencyCode!"),
	"Customer": obj("id:ID!", "numberOfOrders:UnsignedInt64!", "email:String", "phone:String", "firstName:String", "lastName:String",
		"displayName:String!", "createdAt:DateTime!", "updatedAt:DateTime!", "amountSpent:MoneyV2!",
		"defaultEmailAddress:CustomerEmailAddress", "defaultPhoneNumber:CustomerPhoneNumber",
		"storeCreditAccounts:StoreCreditAccountConnection!"),
	// Store credit (2024-07+). StoreCreditAccountTransaction is an
	// interface: its own fields, and a fragment per implementing type.
	"StoreCreditAccountConnection": obj("nodes:[StoreCreditAccount!]!", "edges:[StoreCreditAccountEdge!]!", "pageInfo:PageInfo!"),
	"StoreCreditAccountEdge":       obj("cursor:String!", "node:StoreCreditAccount!"),
	"StoreCreditAccount":           obj("id:ID!", "balance:MoneyV2!", "transactions:StoreCreditAccountTransactionConnection!"),
	"StoreCreditAccountTransactionConnection": obj("nodes:[StoreCreditAccountTransaction!]!",
		"edges:[StoreCreditAccountTransactionEdge!]!", "pageInfo:PageInfo!"),
	"StoreCreditAccountTransactionEdge": obj("cursor:String!", "node:StoreCreditAccountTransaction!"),
	"StoreCreditAccountTransaction": iface([]string{"StoreCreditAccountCreditTransaction", "StoreCreditAccountDebitTransaction",
		"StoreCreditAccountDebitRevertTransaction", "StoreCreditAccountExpirationTransaction"},
		"account:StoreCreditAccount!", "amount:MoneyV2!", "balanceAfterTransaction:MoneyV2!", "createdAt:DateTime!", "event:StoreCreditSystemEvent!"),
	"StoreCreditAccountCreditTransaction": obj("id:ID!", "account:StoreCreditAccount!", "amount:MoneyV2!", "balanceAfterTransaction:MoneyV2!",
		"createdAt:DateTime!", "event:StoreCreditSystemEvent!", "expiresAt:DateTime", "remainingAmount:MoneyV2!"),
	"StoreCreditAccountDebitTransaction": obj("id:ID!", "account:StoreCreditAccount!", "amount:MoneyV2!", "balanceAfterTransaction:MoneyV2!",
		"createdAt:DateTime!", "event:StoreCreditSystemEvent!"),
	"StoreCreditAccountDebitRevertTransaction": obj("id:ID!", "account:StoreCreditAccount!", "amount:MoneyV2!", "balanceAfterTransaction:MoneyV2!",
		"createdAt:DateTime!", "event:StoreCreditSystemEvent!"),
	"StoreCreditAccountExpirationTransaction": obj("account:StoreCreditAccount!", "amount:MoneyV2!", "balanceAfterTransaction:MoneyV2!",
		"createdAt:DateTime!", "event:StoreCreditSystemEvent!"),
	"StoreCreditAccountCreditPayload": obj("storeCreditAccountTransaction:StoreCreditAccountCreditTransaction",
		"userErrors:[StoreCreditAccountCreditUserError!]!"),
	"StoreCreditAccountCreditUserError": obj("field:[String!]", "code:StoreCreditAccountCreditUserErrorCode", "message:String!"),
	"CustomerEmailAddress":              obj("emailAddress:String!"),
	"OnlineStoreThemeConnection":        obj("nodes:[OnlineStoreTheme!]!", "edges:[OnlineStoreThemeEdge!]!", "pageInfo:PageInfo!"),
	"OnlineStoreThemeEdge":              obj("cursor:String!", "node:OnlineStoreTheme!"),
	"OnlineStoreTheme":                  obj("id:ID!", "name:String!", "role:ThemeRole!", "files:OnlineStoreThemeFileConnection"),
	"OnlineStoreThemeFileConnection":    obj("nodes:[OnlineStoreThemeFile!]!", "edges:[OnlineStoreThemeFileEdge!]!", "pageInfo:PageInfo!"),
	"OnlineStoreThemeFileEdge":          obj("cursor:String!", "node:OnlineStoreThemeFile!"),
	"OnlineStoreThemeFile":              obj("filename:String!", "size:UnsignedInt64!", "body:OnlineStoreThemeFileBody!"),
	"OnlineStoreThemeFileBody":          union("OnlineStoreThemeFileBodyBase64", "OnlineStoreThemeFileBodyText", "OnlineStoreThemeFileBodyUrl"),
	"OnlineStoreThemeFileBodyText":      obj("content:String!"),
	"OnlineStoreThemeFileBodyBase64":    obj("contentBase64:String!"),
	"OnlineStoreThemeFileBodyUrl":       obj("url:URL!"),
	"CustomerPhoneNumber":               obj("phoneNumber:String!"),
}

// namedType strips list and non-null wrappers: "[X!]!" → "X".
func namedType(ref string) string { return strings.Trim(ref, "[]!") }

// possibleTypes are the object types a type condition can match. Node is the
// one interface modelled: every object type with an id.
func possibleTypes(name string) map[string]bool {
	out := map[string]bool{}
	if name == "Node" {
		for n, t := range gqlSchema {
			if _, ok := t.fields["id"]; ok {
				out[n] = true
			}
		}
		return out
	}
	t, ok := gqlSchema[name]
	if !ok {
		return out
	}
	if t.fields == nil || len(t.members) > 0 { // union or interface
		for _, m := range t.members {
			out[m] = true
		}
		return out
	}
	out[name] = true
	return out
}

func overlaps(a, b string) bool {
	pa := possibleTypes(a)
	for t := range possibleTypes(b) {
		if pa[t] {
			return true
		}
	}
	return false
}

// validate checks a selection set against the schema before anything runs,
// with graphql-ruby's messages. It also reports undeclared variables.
func (d *gqlDocument) validate(typ string, sels []gqlSelection, path []any, declared map[string]bool, seen map[string]bool) []*gqlError {
	var errs []*gqlError
	at := func(s gqlSelection, msg string, ext map[string]any) {
		errs = append(errs, &gqlError{Message: msg, Locations: loc(d.src, s.pos), Path: append(append([]any{}, path...), s.key()), Extensions: ext})
	}
	for _, s := range sels {
		checkVars(s.args, declared, func(name string) {
			at(s, fmt.Sprintf("Variable $%s is used by %s but not declared", name, s.key()), map[string]any{"code": "variableNotDefined", "variableName": name})
		})
		for _, dir := range s.dirs {
			checkVars(dir.args, declared, func(name string) {
				at(s, fmt.Sprintf("Variable $%s is used by @%s but not declared", name, dir.name), map[string]any{"code": "variableNotDefined", "variableName": name})
			})
		}
		switch s.kind {
		case 'f':
			if s.name == "__typename" {
				continue
			}
			t := gqlSchema[typ]
			if t.fields == nil {
				at(s, fmt.Sprintf("Selections can't be made directly on unions (see selections on %s)", typ), map[string]any{"code": "selectionMismatch", "nodeName": typ})
				continue
			}
			ref, ok := t.fields[s.name]
			if !ok {
				at(s, fmt.Sprintf("Field '%s' doesn't exist on type '%s'", s.name, typ), map[string]any{"code": "undefinedField", "typeName": typ, "fieldName": s.name})
				continue
			}
			ft := namedType(ref)
			_, isObject := gqlSchema[ft]
			switch {
			case isObject && !s.hasSub:
				at(s, fmt.Sprintf("Field must have selections (field '%s' returns %s but has no selections. Did you mean '%s { ... }'?)", s.name, ref, s.name),
					map[string]any{"code": "selectionMismatch", "nodeName": "field '" + s.name + "'", "typeName": ref})
			case !isObject && s.hasSub:
				at(s, fmt.Sprintf("Selections can't be made on scalars (field '%s' returns %s but has selections [%s])", s.name, ref, subNames(s.sub)),
					map[string]any{"code": "selectionMismatch", "nodeName": "field '" + s.name + "'", "typeName": ref})
			case isObject:
				errs = append(errs, d.validate(ft, s.sub, append(append([]any{}, path...), s.key()), declared, seen)...)
			}
		case 'i', 's':
			on, sub := s.on, s.sub
			if s.kind == 's' {
				f := d.frags[s.name]
				if f == nil {
					at(s, fmt.Sprintf("Fragment %s was used, but not defined", s.name), map[string]any{"code": "useAndDefineFragment", "fragmentName": s.name})
					continue
				}
				if seen[s.name] {
					at(s, fmt.Sprintf("Fragment %s contains an infinite loop", s.name), map[string]any{"code": "infiniteLoop", "fragmentName": s.name})
					continue
				}
				on, sub = f.on, f.sel
			}
			if on == "" {
				on = typ
			}
			if _, ok := gqlSchema[on]; !ok && on != "Node" {
				at(s, fmt.Sprintf("No such type %s, so it can't be a fragment condition", on), map[string]any{"code": "undefinedType", "typeName": on})
				continue
			}
			if !overlaps(on, typ) {
				at(s, fmt.Sprintf("Fragment on %s can't be spread inside %s", on, typ), map[string]any{"code": "cannotSpreadFragment", "typeName": on})
				continue
			}
			if on == "Node" { // fields of an interface: check them on each member
				on = typ
			}
			next := seen
			if s.kind == 's' {
				next = map[string]bool{s.name: true}
				for k := range seen {
					next[k] = true
				}
			}
			errs = append(errs, d.validate(on, sub, path, declared, next)...)
		}
	}
	return errs
}

func subNames(sels []gqlSelection) string {
	var names []string
	for _, s := range sels {
		names = append(names, s.key())
	}
	return strings.Join(names, ", ")
}

func checkVars(v any, declared map[string]bool, report func(string)) {
	switch t := v.(type) {
	case gqlVar:
		if !declared[string(t)] {
			report(string(t))
		}
	case []any:
		for _, e := range t {
			checkVars(e, declared, report)
		}
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			checkVars(t[k], declared, report)
		}
	}
}

// gqlObject is a response object that keeps the selection order, as GraphQL
// responses do.
type gqlObject struct {
	keys []string
	vals map[string]any
}

func newObject() *gqlObject { return &gqlObject{vals: map[string]any{}} }

func (o *gqlObject) set(k string, v any) {
	old, ok := o.vals[k]
	if !ok {
		o.keys = append(o.keys, k)
		o.vals[k] = v
		return
	}
	// The same field selected twice (directly and in a fragment): merge.
	if a, ok := old.(*gqlObject); ok {
		if b, ok := v.(*gqlObject); ok {
			for _, bk := range b.keys {
				a.set(bk, b.vals[bk])
			}
			return
		}
	}
	o.vals[k] = v
}

// MarshalJSON writes the object with its keys in selection order.
func (o *gqlObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// project shapes a resolved value (maps with a "__typename", lists,
// scalars) by a validated selection set.
// withArgs resolves a field whose value depends on its arguments (a
// connection filtered by query:), given as an argField.
func withArgs(v any, args, vars map[string]any) any {
	if f, ok := v.(argField); ok {
		return f(resolveArgs(args, vars))
	}
	return v
}

// argField is a field value computed from the field's arguments.
type argField func(args map[string]any) any

func (d *gqlDocument) project(v any, sels []gqlSelection, vars map[string]any) any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = d.project(e, sels, vars)
		}
		return out
	case map[string]any:
		out := newObject()
		d.projectInto(out, t, sels, vars)
		return out
	}
	return v
}

func (d *gqlDocument) projectInto(out *gqlObject, v map[string]any, sels []gqlSelection, vars map[string]any) {
	typ, _ := v["__typename"].(string)
	for _, s := range sels {
		if !included(s.dirs, vars) {
			continue
		}
		switch s.kind {
		case 'f':
			if s.name == "__typename" {
				out.set(s.key(), typ)
			} else if s.hasSub {
				out.set(s.key(), d.project(withArgs(v[s.name], s.args, vars), s.sub, vars))
			} else {
				out.set(s.key(), v[s.name])
			}
		case 'i':
			if s.on == "" || possibleTypes(s.on)[typ] {
				d.projectInto(out, v, s.sub, vars)
			}
		case 's':
			if f := d.frags[s.name]; f != nil && possibleTypes(f.on)[typ] {
				d.projectInto(out, v, f.sel, vars)
			}
		}
	}
}
