package shopifysim

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Store credit as the Admin GraphQL API has it (2024-07 and later;
// https://shopify.dev/docs/api/admin-graphql/latest/mutations/storeCreditAccountCredit):
// a customer holds at most one account per currency, created by the first
// credit in that currency when storeCreditAccountCredit is given the
// customer's id; each credit is a StoreCreditAccountCreditTransaction
// (amount, balanceAfterTransaction, createdAt, expiresAt, remainingAmount,
// event ADJUSTMENT for an app's credit). Refusals are userErrors with the
// StoreCreditAccountCreditUserErrorCode values (ACCOUNT_NOT_FOUND,
// OWNER_NOT_FOUND, NEGATIVE_OR_ZERO_AMOUNT, EXPIRES_AT_IN_PAST,
// MISMATCHING_CURRENCY, UNSUPPORTED_CURRENCY, CREDIT_LIMIT_EXCEEDED).

// creditAccount is one customer's store credit account in one currency.
type creditAccount struct {
	id       int64
	customer string // numeric customer id
	currency string
	txs      []*creditTx
}

type creditTx struct {
	id        int64
	amount    *big.Rat
	balance   *big.Rat
	created   time.Time
	expiresAt *time.Time
}

// StoreCredit is one credit as the simulated store holds it.
type StoreCredit struct {
	ID         string
	CustomerID string
	Amount     string
	Currency   string
	ExpiresAt  *time.Time
}

// StoreCredits lists every store credit of the shop, oldest first.
func (s *Simulator) StoreCredits(domain string) []StoreCredit {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shops[domain]
	if sh == nil {
		return nil
	}
	var out []StoreCredit
	for _, a := range sh.credits {
		for _, t := range a.txs {
			out = append(out, StoreCredit{ID: gid("StoreCreditAccountCreditTransaction", t.id), CustomerID: a.customer,
				Amount: decimalString(t.amount), Currency: a.currency, ExpiresAt: t.expiresAt})
		}
	}
	return out
}

// LoseNextAnswers makes the shop's next n Admin GraphQL calls that run the
// root field (any call when field is "") run and then answer 502 Bad
// Gateway instead of their result, as when Shopify's edge times out on a
// call its backend completed: a mutation took effect and the app never
// learnt it.
func (s *Simulator) LoseNextAnswers(domain, field string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh := s.shops[domain]; sh != nil {
		sh.loseAnswers, sh.loseField = n, field
	}
}

// decimalString formats like Shopify's Decimal scalar: "10.0", "12.5", "9.99".
func decimalString(r *big.Rat) string {
	s := strings.TrimRight(r.FloatString(6), "0")
	if strings.HasSuffix(s, ".") {
		s += "0"
	}
	return s
}

func moneyV2(r *big.Rat, currency string) map[string]any {
	return map[string]any{"__typename": "MoneyV2", "amount": decimalString(r), "currencyCode": currency}
}

// customerKnown reports whether the customer id has ever ordered in the
// shop: the simulator's customers are the ones its orders name.
func (sh *shop) customerKnown(id string) bool {
	for _, o := range sh.orders {
		if c, ok := o["customer"].(map[string]any); ok && fmt.Sprint(c["id"]) == id {
			return true
		}
	}
	return false
}

func creditError(code, msg string, field ...any) map[string]any {
	if field == nil {
		field = []any{"creditInput"}
	}
	return map[string]any{"__typename": "StoreCreditAccountCreditPayload", "storeCreditAccountTransaction": nil,
		"userErrors": []any{map[string]any{"__typename": "StoreCreditAccountCreditUserError", "field": field, "code": code, "message": msg}}}
}

// creditStoreCredit is storeCreditAccountCredit(id, creditInput).
func (s *Simulator) creditStoreCredit(sh *shop, args map[string]any) (any, *gqlError) {
	id, _ := args["id"].(string)
	in, _ := args["creditInput"].(map[string]any)
	amt, _ := in["creditAmount"].(map[string]any)
	if in == nil || amt == nil {
		return nil, &gqlError{Message: "Variable $creditInput of type StoreCreditAccountCreditInput! was provided invalid value", Extensions: map[string]any{"code": "INVALID_VARIABLE"}}
	}
	currency, _ := amt["currencyCode"].(string)
	amount, ok := new(big.Rat).SetString(fmt.Sprint(amt["amount"]))
	if !ok {
		return nil, &gqlError{Message: fmt.Sprintf("Variable $creditInput of type StoreCreditAccountCreditInput! was provided invalid value for creditAmount.amount (Expected value to not be null / invalid Decimal: %v)", amt["amount"]),
			Extensions: map[string]any{"code": "INVALID_VARIABLE"}}
	}
	var expires *time.Time
	if v, _ := in["expiresAt"].(string); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, &gqlError{Message: fmt.Sprintf("Variable $creditInput of type StoreCreditAccountCreditInput! was provided invalid value for expiresAt (invalid DateTime %q)", v),
				Extensions: map[string]any{"code": "INVALID_VARIABLE"}}
		}
		t = t.UTC()
		expires = &t
	}
	var acct *creditAccount
	switch {
	case strings.HasPrefix(id, "gid://shopify/Customer/"):
		cust := strings.TrimPrefix(id, "gid://shopify/Customer/")
		if !sh.customerKnown(cust) {
			return creditError("OWNER_NOT_FOUND", "Owner does not exist.", "id"), nil
		}
		for _, a := range sh.credits {
			if a.customer == cust && a.currency == currency {
				acct = a
			}
		}
		if acct == nil {
			acct = &creditAccount{id: s.nextID(), customer: cust, currency: currency}
		}
	case strings.HasPrefix(id, "gid://shopify/StoreCreditAccount/"):
		n, _ := strconv.ParseInt(strings.TrimPrefix(id, "gid://shopify/StoreCreditAccount/"), 10, 64)
		for _, a := range sh.credits {
			if a.id == n {
				acct = a
			}
		}
		if acct == nil {
			return creditError("ACCOUNT_NOT_FOUND", "The store credit account could not be found.", "id"), nil
		}
		if acct.currency != currency {
			return creditError("MISMATCHING_CURRENCY", "The currency provided does not match the currency of the store credit account."), nil
		}
	default:
		return nil, &gqlError{Message: fmt.Sprintf("Invalid global id '%s'", id), Extensions: map[string]any{"code": "argumentLiteralsIncompatible"}}
	}
	if len(currency) != 3 || strings.ToUpper(currency) != currency {
		return creditError("UNSUPPORTED_CURRENCY", "The currency provided is not currently supported."), nil
	}
	if amount.Sign() <= 0 {
		return creditError("NEGATIVE_OR_ZERO_AMOUNT", "A positive amount must be used to credit a store credit account."), nil
	}
	now := s.cfg.Now()
	if expires != nil && !expires.After(now) {
		return creditError("EXPIRES_AT_IN_PAST", "The expiry date must be in the future."), nil
	}
	if len(acct.txs) == 0 && !contains(sh.credits, acct) {
		sh.credits = append(sh.credits, acct)
	}
	bal := new(big.Rat)
	if len(acct.txs) > 0 {
		bal.Set(acct.txs[len(acct.txs)-1].balance)
	}
	tx := &creditTx{id: s.nextID(), amount: amount, balance: bal.Add(bal, amount), created: now, expiresAt: expires}
	acct.txs = append(acct.txs, tx)
	return map[string]any{"__typename": "StoreCreditAccountCreditPayload", "storeCreditAccountTransaction": creditNode(acct, tx), "userErrors": []any{}}, nil
}

func contains(list []*creditAccount, a *creditAccount) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

func creditNode(a *creditAccount, t *creditTx) map[string]any {
	var exp any
	if t.expiresAt != nil {
		exp = timestamp(*t.expiresAt)
	}
	return map[string]any{"__typename": "StoreCreditAccountCreditTransaction", "id": gid("StoreCreditAccountCreditTransaction", t.id),
		"amount": moneyV2(t.amount, a.currency), "balanceAfterTransaction": moneyV2(t.balance, a.currency),
		"remainingAmount": moneyV2(t.amount, a.currency), "createdAt": timestamp(t.created), "expiresAt": exp, "event": "ADJUSTMENT",
		"account": accountNode(a, false)}
}

// accountNode is a StoreCreditAccount; withTx adds its transactions
// connection (oldest first, as sortKey CREATED_AT; first/last page it).
func accountNode(a *creditAccount, withTx bool) map[string]any {
	bal := new(big.Rat)
	if len(a.txs) > 0 {
		bal = a.txs[len(a.txs)-1].balance
	}
	n := map[string]any{"__typename": "StoreCreditAccount", "id": gid("StoreCreditAccount", a.id), "balance": moneyV2(bal, a.currency)}
	if withTx {
		n["transactions"] = argField(func(args map[string]any) any {
			nodes := make([]map[string]any, 0, len(a.txs))
			for _, t := range a.txs {
				nodes = append(nodes, creditNode(a, t))
			}
			return page(nodes, args, "StoreCreditAccountTransaction")
		})
	}
	return n
}

// page applies first or last (at most 250) to nodes and wraps them.
func page(nodes []map[string]any, args map[string]any, typ string) map[string]any {
	n := pageSize(args)
	more := false
	if _, last := args["last"].(float64); last && args["first"] == nil {
		if len(nodes) > n {
			nodes, more = nodes[len(nodes)-n:], true
		}
	} else if len(nodes) > n {
		nodes, more = nodes[:n], true
	}
	return connection(typ, nodes, idCursor, more)
}

// storeCreditAccounts is Customer.storeCreditAccounts(first, query): the
// customer's accounts, filtered by currency_code:XXX when asked.
func (sh *shop) storeCreditAccounts(customer string) argField {
	return func(args map[string]any) any {
		q, _ := args["query"].(string)
		want := ""
		for term := range strings.FieldsSeq(q) {
			if v, ok := strings.CutPrefix(term, "currency_code:"); ok {
				want = strings.ToUpper(strings.Trim(v, `'"`))
			}
		}
		var nodes []map[string]any
		for _, a := range sh.credits {
			if a.customer == customer && (want == "" || a.currency == want) {
				nodes = append(nodes, accountNode(a, true))
			}
		}
		return page(nodes, args, "StoreCreditAccount")
	}
}
