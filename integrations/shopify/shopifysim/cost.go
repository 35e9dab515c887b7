package shopifysim

import "strings"

// The calculated query cost of Shopify's GraphQL Admin API (shopify.md §5,
// https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits):
// scalars and enums cost 0, an object 1, an interface or union the dearest
// of its possible selections, a connection 2 plus its page size (first or
// last) times the cost of one node, a mutation 10. The requested cost is
// computed from the query before it runs; the actual cost from what was
// returned (a connection charges the nodes it returned), and Shopify
// refunds the difference.

// rootCost is the cost of one root field; val is the resolved value when
// computing the actual cost, nil for the requested one.
func (d *gqlDocument) rootCost(rootType string, f gqlSelection, vars map[string]any, val any, actual bool) int {
	switch {
	case f.name == "__typename":
		return 0
	case rootType == "Mutation":
		return mutationCost
	case actual && val == nil:
		return 1 // resolved, found nothing
	}
	return d.fieldCost(namedType(gqlSchema[rootType].fields[f.name]), f, vars, val, actual)
}

func (d *gqlDocument) fieldCost(named string, f gqlSelection, vars map[string]any, val any, actual bool) int {
	if _, ok := gqlSchema[named]; !ok || !f.hasSub {
		return 0 // scalar or enum
	}
	if strings.HasSuffix(named, "Connection") {
		n := pageSize(resolveArgs(f.args, vars))
		nodeType := namedType(gqlSchema[named].fields["nodes"])
		// One node's cost, whether selected through nodes or edges.
		perNode := func(node any, actual bool) int {
			per := 0
			for _, s := range d.fieldsFor(named, f.sub, vars) {
				switch s.name {
				case "nodes":
					per = max(per, 1+d.objCost(nodeType, s.sub, vars, node, actual))
				case "edges":
					for _, e := range d.fieldsFor(named+"Edge", s.sub, vars) {
						if e.name == "node" {
							per = max(per, 1+d.objCost(nodeType, e.sub, vars, node, actual))
						}
					}
				}
			}
			return per
		}
		if actual {
			m, _ := val.(map[string]any)
			nodes, _ := m["nodes"].([]any)
			// Each returned node at its actual cost: a connection inside
			// it charges the nodes it returned too.
			total := 2
			for _, node := range nodes {
				total += perNode(node, true)
			}
			return total
		}
		return 2 + n*perNode(nil, false)
	}
	if list, ok := val.([]any); ok && actual {
		total := 0
		for _, v := range list {
			total += 1 + d.objCost(named, f.sub, vars, v, actual)
		}
		return total
	}
	if actual && val == nil {
		return 0
	}
	return 1 + d.objCost(named, f.sub, vars, val, actual)
}

// objCost is the cost of a selection on an object or union type.
func (d *gqlDocument) objCost(named string, sels []gqlSelection, vars map[string]any, val any, actual bool) int {
	t := gqlSchema[named]
	if t.fields != nil && len(t.members) == 0 {
		total := 0
		m, _ := val.(map[string]any)
		for _, f := range d.fieldsFor(named, sels, vars) {
			if f.name == "__typename" {
				continue
			}
			total += d.fieldCost(namedType(t.fields[f.name]), f, vars, withArgs(m[f.name], f.args, vars), actual)
		}
		return total
	}
	if m, ok := val.(map[string]any); ok && actual {
		if typ, _ := m["__typename"].(string); typ != "" {
			return d.objCost(typ, sels, vars, val, actual)
		}
	}
	best := 0
	for _, member := range t.members {
		best = max(best, d.objCost(member, sels, vars, nil, false))
	}
	return best
}

// fieldsFor flattens a selection set into the fields that apply to the
// object type typ (inline fragments and spreads whose condition matches).
func (d *gqlDocument) fieldsFor(typ string, sels []gqlSelection, vars map[string]any) []gqlSelection {
	var out []gqlSelection
	for _, s := range sels {
		if !included(s.dirs, vars) {
			continue
		}
		switch s.kind {
		case 'f':
			out = append(out, s)
		case 'i':
			if s.on == "" || possibleTypes(s.on)[typ] {
				out = append(out, d.fieldsFor(typ, s.sub, vars)...)
			}
		case 's':
			if f := d.frags[s.name]; f != nil && possibleTypes(f.on)[typ] {
				out = append(out, d.fieldsFor(typ, f.sel, vars)...)
			}
		}
	}
	return out
}
