package app

import (
	"context"
	"time"
)

// OfferStoreCredit is a reward kind: an amount of store credit put on the
// advocate's customer account in the store, spent at checkout like a gift
// card, instead of a code. Only platforms whose adapter says so
// (StoreCreditSupport) can pay it.
const OfferStoreCredit = "store_credit"

// StoreCredit is store credit to put on a customer's account.
type StoreCredit struct {
	// Key names the credit in Parrain (the reward's code), for errors and
	// the store budget; the store does not keep it.
	Key        string
	CustomerID string
	Amount     Money
	// ExpiresAt is when the credit lapses, to the second. It is also the
	// credit's marker: the store keeps no note of ours on a credit (Shopify
	// 2026-07), so an adapter finds a credit it made before by its amount
	// and this exact instant (StoreCreditExpiry makes it unique enough).
	ExpiresAt time.Time
}

// StoreCrediter is the part of StorePlatform that pays rewards as store
// credit.
type StoreCrediter interface {
	// StoreCreditSupport is nil when the shop's store can hold store credit
	// for its customers, else an EINVALID error saying why not, in words
	// for the merchant (the program's settings show it).
	StoreCreditSupport(shop *Shop) error
	// CreditStoreCredit puts the credit on the customer's account once and
	// returns the store's reference to the credit. It looks the credit up
	// first (by amount and ExpiresAt on the customer's account in that
	// currency): a retry after a crash, a 5xx whose answer was lost or a
	// THROTTLED refusal never credits twice.
	CreditStoreCredit(ctx context.Context, shop *Shop, c StoreCredit) (ref string, err error)
}

// StoreCreditExpiry is when a store credit reward lapses: days after from,
// at a second of that UTC day derived from the referral (its id modulo the
// seconds of a day). The second is the credit's marker in the store: two
// credits of one advocate with the same amount and expiry day would need
// referral ids 86,400 apart to share it, and even then a lookup finding
// the other's credit only withholds a second credit, never pays twice.
func StoreCreditExpiry(from time.Time, days int, referralID int64) time.Time {
	d := from.UTC().AddDate(0, 0, days)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	sec := referralID % 86400
	if sec < 0 {
		sec = -sec
	}
	return day.Add(time.Duration(sec) * time.Second)
}
