package shopify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parrain/parrain/app"
)

// Store credit (Admin GraphQL, 2024-07 and later):
//
//   - storeCreditAccountCredit(id, creditInput: {creditAmount, expiresAt})
//     credits the account of the given owner, creating the customer's
//     account in that currency when it has none ("The mutation accepts
//     either a store credit account ID, a Customer ID, or a CompanyLocation
//     ID … it automatically creates an account if one doesn't exist for the
//     specified currency", https://shopify.dev/docs/api/admin-graphql/latest/mutations/storeCreditAccountCredit;
//     StoreCreditAccountCreditInput: https://shopify.dev/docs/api/admin-graphql/2024-10/input-objects/StoreCreditAccountCreditInput).
//     Scope write_store_credit_account_transactions.
//   - Customer.storeCreditAccounts(query: "currency_code:…") → the account's
//     transactions (StoreCreditAccountTransaction, an interface; credits are
//     StoreCreditAccountCreditTransaction with id, amount, expiresAt:
//     https://shopify.dev/docs/api/admin-graphql/2026-07/objects/StoreCreditAccountCreditTransaction,
//     https://shopify.dev/docs/api/admin-graphql/latest/interfaces/HasStoreCreditAccounts).
//     Scope read_store_credit_accounts (transactions: read_…_transactions,
//     which the write scope covers).
//
// The mutation takes no idempotency key (Shopify's @idempotent directive
// covers refunds and inventory only, https://shopify.dev/docs/api/usage/idempotent-requests)
// and, in 2026-07, a credit carries nothing of ours but its amount and
// expiresAt (a merchant note appears on transactions only from 2027-01).
// So the marker is the expiry, to the second, which the engine makes
// unique per referral (app.StoreCreditExpiry): before crediting, the
// customer's account in that currency is read and a credit with the same
// amount and expiresAt is this reward's, credited by an earlier attempt
// whose answer was lost (a crash before the commit, a 5xx after Shopify
// ran it). The newest 25 transactions are read: a retry comes within
// minutes of the attempt it repeats, long before 25 other movements.

// Scopes the store credit calls need, for the app's scope list.
const StoreCreditScopes = "write_store_credit_account_transactions,read_store_credit_accounts"

const storeCreditLookup = `query ParrainStoreCredit($id: ID!, $q: String!) {
  customer(id: $id) {
    storeCreditAccounts(first: 1, query: $q) {
      nodes { id transactions(last: 25) { nodes { ... on StoreCreditAccountCreditTransaction { id expiresAt amount { amount currencyCode } } } } }
    }
  }
}`

// storeCreditLookupCost is the documented requested cost: customer 1,
// storeCreditAccounts 2 + 1 × (account 1 + transactions 2 + 25 × (node 1
// + amount 1)).
const storeCreditLookupCost = 56

const storeCreditCredit = `mutation ParrainStoreCreditCredit($id: ID!, $c: StoreCreditAccountCreditInput!) {
  storeCreditAccountCredit(id: $id, creditInput: $c) {
    storeCreditAccountTransaction { id }
    userErrors { field code message }
  }
}`

// StoreCreditSupport implements app.StorePlatform: every Shopify shop can
// hold store credit for its customers (the app needs the scopes above).
func (s *Store) StoreCreditSupport(*app.Shop) error { return nil }

// CreditStoreCredit implements app.StorePlatform: look the credit up, and
// credit only when the account does not hold it yet. One worker at a time
// per credit (the claim): two workers running the same reward would both
// find nothing and both credit, and unlike a code there is no TAKEN to
// stop the second.
func (s *Store) CreditStoreCredit(ctx context.Context, shop *app.Shop, c app.StoreCredit) (string, error) {
	if c.CustomerID == "" {
		return "", app.Errorf(app.EINVALID, "store credit needs a customer account, and this advocate checked out as a guest: Shopify keeps store credit on customer accounts only")
	}
	if c.Amount.Minor <= 0 {
		return "", app.Errorf(app.EINVALID, "store credit of %s: the amount must be positive", c.Amount)
	}
	token, err := s.token(ctx, shop)
	if err != nil {
		return "", err
	}
	if s.Absent != nil {
		release, err := s.claimOne(ctx, "shopify:crediting:"+shop.Domain+":"+c.Key, "store credit "+c.Key+": another worker is crediting it")
		if err != nil {
			return "", err
		}
		defer release()
	}
	customer := "gid://shopify/Customer/" + c.CustomerID
	if id, err := s.findStoreCredit(ctx, shop, token, customer, c); err != nil || id != "" {
		return id, err
	}
	var out struct {
		Credit struct {
			Transaction *struct {
				ID string `json:"id"`
			} `json:"storeCreditAccountTransaction"`
			UserErrors []userError `json:"userErrors"`
		} `json:"storeCreditAccountCredit"`
	}
	vars := map[string]any{"id": customer, "c": map[string]any{
		"creditAmount": map[string]any{"amount": c.Amount.Decimal(), "currencyCode": c.Amount.Currency},
		"expiresAt":    c.ExpiresAt.UTC().Format(time.RFC3339),
	}}
	if err := s.Admin.query(ctx, shop.Domain, token, call{op: "credit:" + c.Key, cost: 10, q: storeCreditCredit, vars: vars}, &out); err != nil {
		return "", fmt.Errorf("store credit %s: %w", c.Key, deniedStoreCredit(err))
	}
	if err := userErrorsErr("storeCreditAccountCredit "+c.Key, out.Credit.UserErrors); err != nil {
		return "", err
	}
	if out.Credit.Transaction == nil {
		return "", fmt.Errorf("store credit %s: no transaction in the answer", c.Key)
	}
	return out.Credit.Transaction.ID, nil
}

// findStoreCredit returns the id of the credit matching c on the
// customer's account in c's currency, "" when there is none.
func (s *Store) findStoreCredit(ctx context.Context, shop *app.Shop, token, customer string, c app.StoreCredit) (string, error) {
	var out struct {
		Customer *struct {
			Accounts struct {
				Nodes []struct {
					Transactions struct {
						Nodes []struct {
							ID        string `json:"id"`
							ExpiresAt string `json:"expiresAt"`
							Amount    struct {
								Amount       string `json:"amount"`
								CurrencyCode string `json:"currencyCode"`
							} `json:"amount"`
						} `json:"nodes"`
					} `json:"transactions"`
				} `json:"nodes"`
			} `json:"storeCreditAccounts"`
		} `json:"customer"`
	}
	vars := map[string]any{"id": customer, "q": "currency_code:" + c.Amount.Currency}
	if err := s.Admin.query(ctx, shop.Domain, token, call{op: "credits:" + c.Key, cost: storeCreditLookupCost, q: storeCreditLookup, vars: vars}, &out); err != nil {
		return "", fmt.Errorf("look up store credit %s: %w", c.Key, deniedStoreCredit(err))
	}
	if out.Customer == nil {
		return "", nil
	}
	want := c.ExpiresAt.UTC().Truncate(time.Second)
	for _, a := range out.Customer.Accounts.Nodes {
		for _, t := range a.Transactions.Nodes {
			if t.ID == "" || t.ExpiresAt == "" { // a debit or another kind of movement
				continue
			}
			exp, err := time.Parse(time.RFC3339, t.ExpiresAt)
			m, merr := app.ParseMoney(t.Amount.Amount, t.Amount.CurrencyCode)
			if err != nil || merr != nil {
				continue
			}
			if exp.Equal(want) && m == c.Amount {
				return t.ID, nil
			}
		}
	}
	return "", nil
}

// deniedStoreCredit turns Shopify's ACCESS_DENIED (a shop that installed
// Parrain before store credit and has not approved the new scopes) into a
// refusal that says what to do: retrying cannot help.
func deniedStoreCredit(err error) error {
	var re *RetryError
	if errors.As(err, &re) || !strings.Contains(err.Error(), "Access denied") {
		return err
	}
	return app.Wrap(app.EINVALID, err, "Shopify refused store credit: the app has not been granted write_store_credit_account_transactions and read_store_credit_accounts; open Parrain in the Shopify admin to approve its new access, then reissue the reward")
}
